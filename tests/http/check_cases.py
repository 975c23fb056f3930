#!/usr/bin/python3
"""Sends every case of cases.py to 127.0.0.1:PORT on its own connection and
checks the status and that the server closes the connection after it (and
answers nothing more, even though a valid request follows the bad one).
Prints one line per failure and `N passed, N failed`; exit 1 on failure.

With --record FILE (the file tests/apps/recorder.py appends every request
it is handed to), also checks after each case that the app saw nothing.

usage: check_cases.py PORT [--record FILE] [NAME-SUBSTRING]"""
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cases import CASES  # noqa: E402

FOLLOW = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"


def exchange(port, data, timeout=5.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data + FOLLOW)
    except OSError:
        pass
    out = b""
    closed = False
    try:
        while True:
            d = s.recv(65536)
            if not d:
                closed = True
                break
            out += d
    except ConnectionResetError:
        closed = True
    except socket.timeout:
        pass
    s.close()
    return out, closed


def app_saw(record):
    """What the recording app wrote since the last call (then emptied)."""
    if not record or not os.path.exists(record):
        return ""
    with open(record, "r+", encoding="latin-1") as f:
        seen = f.read()
        f.truncate(0)
    return seen


def main():
    args = sys.argv[1:]
    record = None
    if "--record" in args:
        i = args.index("--record")
        record = args[i + 1]
        del args[i:i + 2]
    port = int(args[0])
    only = args[1] if len(args) > 1 else ""
    passed = failed = 0
    for name, data, want in CASES:
        if only not in name:
            continue
        out, closed = exchange(port, data)
        status = None
        if out.startswith(b"HTTP/1.1 "):
            status = int(out[9:12])
        problems = []
        if status != want:
            problems.append("status %s, want %d" % (status, want))
        if not closed:
            problems.append("connection left open")
        if out.count(b"HTTP/1.1 ") > 1:
            problems.append("answered more than once (the follow-up was parsed)")
        seen = app_saw(record)
        if seen:
            problems.append("the app saw %r" % seen)
        if problems:
            failed += 1
            print("FAIL %s: %s; got %r" % (name, ", ".join(problems), out[:200]))
        else:
            passed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
