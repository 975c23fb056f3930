#!/usr/bin/python3
"""Flood 127.0.0.1:PORT with random bytes and malformed requests for
SECONDS, from THREADS threads, and print one JSON line of counts.

Each connection carries one of: random bytes; a malformed request of
tests/http/cases.py; a valid request with a few bytes flipped, cut short,
or followed by garbage; an over-long request line or header field; a
chunked body with random chunk sizes. It then reads what comes back for a
moment and closes, half the time with a reset (SO_LINGER 0).

Usage: flood.py PORT SECONDS [THREADS] [SEED]
"""
import json
import os
import random
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "http"))
from cases import CASES  # noqa: E402

VALID = [
    b"GET /?a=1 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
    b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
]


def payload(rng):
    kind = rng.randrange(8)
    if kind == 0:
        return "random", rng.randbytes(rng.randrange(1, 4096))
    if kind == 1:
        return "malformed", rng.choice(CASES)[1]
    base = bytearray(rng.choice(VALID))
    if kind == 2:
        for _ in range(rng.randrange(1, 6)):
            base[rng.randrange(len(base))] = rng.randrange(256)
        return "flipped", bytes(base)
    if kind == 3:
        return "truncated", bytes(base[:rng.randrange(1, len(base))])
    if kind == 4:
        return "garbage-after", bytes(base) + rng.randbytes(rng.randrange(1, 512))
    if kind == 5:
        return "long-line", b"GET /" + b"a" * rng.randrange(8000, 20000) + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    if kind == 6:
        return "long-field", b"GET / HTTP/1.1\r\nHost: x\r\nX-L: " + b"v" * rng.randrange(8000, 20000) + b"\r\n\r\n"
    body = b"".join(b"%x\r\n" % n + b"z" * n + b"\r\n" for n in (rng.randrange(0, 300) for _ in range(3)))
    head = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    return "chunked", head + body + rng.choice([b"0\r\n\r\n", b"ffffffffffffffffff\r\n", b"-1\r\n", b""])


def worker(port, deadline, seed, counts, lock):
    rng = random.Random(seed)
    local = {}
    while time.monotonic() < deadline:
        kind, data = payload(rng)
        local[kind] = local.get(kind, 0) + 1
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=2)
        except OSError:
            local["connect-failed"] = local.get("connect-failed", 0) + 1
            continue
        try:
            s.settimeout(0.1)
            s.sendall(data)
            got = s.recv(65536)
            local["answered" if got else "closed"] = local.get("answered" if got else "closed", 0) + 1
        except OSError:
            local["no-answer"] = local.get("no-answer", 0) + 1
        finally:
            if rng.random() < 0.5:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
    with lock:
        for k, v in local.items():
            counts[k] = counts.get(k, 0) + v


def main():
    port, seconds = int(sys.argv[1]), float(sys.argv[2])
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    deadline = time.monotonic() + seconds
    counts, lock = {}, threading.Lock()
    ts = [threading.Thread(target=worker, args=(port, deadline, seed * 1000 + i, counts, lock))
          for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    kinds = ("random", "malformed", "flipped", "truncated", "garbage-after", "long-line",
             "long-field", "chunked")
    counts["connections"] = sum(counts.get(k, 0) for k in kinds)
    print(json.dumps(counts, sort_keys=True), flush=True)


if __name__ == "__main__":
    main()
