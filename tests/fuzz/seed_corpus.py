#!/usr/bin/python3
"""Writes the fuzzer's seed inputs into DIR: every malformed case of
tests/http/cases.py and a few valid requests, each prefixed with the
split-size byte the target reads first."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "http"))
from cases import CASES  # noqa: E402

VALID = [
    b"GET /a%20b?x=1&y=%zz HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 1.2.3.4, 5.6.7.8\r\n"
    b"X-Forwarded-Proto: https\r\nCookie: a=1\r\nCookie: b=2\r\n\r\n",
    b"POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello"
    b"GET /next HTTP/1.1\r\nHost: h\r\n\r\n",
    b"POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n"
    b"5;ext=1\r\nhello\r\n0\r\nTrailer: x\r\n\r\n",
    b"GET http://example.com/abs?q HTTP/1.1\r\nHost: example.com\r\n"
    b"Forwarded: for=\"[2001:db8::1]:80\";proto=https\r\n\r\n",
    b"\r\nGET * HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
]


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
