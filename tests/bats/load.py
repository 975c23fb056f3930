#!/usr/bin/python3
"""Continuous load for the lifecycle tests: THREADS keep-alive clients and
THREADS new-connection clients GET PATH on 127.0.0.1:PORT until the file
STOPFILE exists (or MAX seconds pass). Prints `ok=N failed=M` and the first
few failures; every exception or non-200 answer is a failure.

usage: load.py PORT STOPFILE [THREADS] [PATH] [MAX]"""
import http.client
import os
import sys
import threading
import time

port, stopfile = int(sys.argv[1]), sys.argv[2]
threads = int(sys.argv[3]) if len(sys.argv) > 3 else 4
path = sys.argv[4] if len(sys.argv) > 4 else "/"
deadline = time.time() + (float(sys.argv[5]) if len(sys.argv) > 5 else 60)
lock = threading.Lock()
counts = {"ok": 0, "failed": 0}
failures = []


def record(ok, what=None):
    with lock:
        counts["ok" if ok else "failed"] += 1
        if not ok and len(failures) < 5:
            failures.append(what)


def client(keepalive):
    conn = None
    while not os.path.exists(stopfile) and time.time() < deadline:
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            headers = {} if keepalive else {"Connection": "close"}
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            resp.read()
            record(resp.status == 200, "status %d" % resp.status)
            if not keepalive or resp.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except Exception as e:  # noqa: BLE001 - every failure counts
            record(False, repr(e))
            conn = None


workers = [threading.Thread(target=client, args=(i % 2 == 0,)) for i in range(threads * 2)]
for w in workers:
    w.start()
for w in workers:
    w.join()
print("ok=%d failed=%d" % (counts["ok"], counts["failed"]))
for f in failures:
    print("  " + str(f))
