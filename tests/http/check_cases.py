#!/usr/bin/python3
"""Sends every case of cases.py to 127.0.0.1:PORT on its own connection and
checks the status and that the server closes the connection after it (and
answers nothing more, even though a valid request follows the bad one).
Prints one line per failure and `N passed, N failed`; exit 1 on failure.

usage: check_cases.py PORT [NAME-SUBSTRING]"""
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


def main():
    port = int(sys.argv[1])
    only = sys.argv[2] if len(sys.argv) > 2 else ""
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
        if problems:
            failed += 1
            print("FAIL %s: %s; got %r" % (name, ", ".join(problems), out[:200]))
        else:
            passed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
