#!/usr/bin/python3
"""Writes the fuzzer's seed inputs into DIR: every malformed case of
tests/http/cases.py and its valid requests (VALID), each prefixed with the
split-size byte the target reads first."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "http"))
from cases import CASES, VALID  # noqa: E402


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    seeds = [data for _, data, _ in CASES] + VALID
    for i, data in enumerate(seeds):
        for split in (0, 7, 255):
            with open(os.path.join(out, "seed-%03d-%d" % (i, split)), "wb") as f:
                f.write(bytes([split]) + data)


if __name__ == "__main__":
    main()
