#!/usr/bin/python3
"""Continuous load for the lifecycle tests: THREADS keep-alive clients and
THREADS new-connection clients GET PATH on 127.0.0.1:PORT until the file
STOPFILE exists (or MAX seconds pass). Prints `ok=N failed=M` and the first
few failures; every exception or non-200 answer is a failure. PORT may be
unix:PATH, a UNIX socket, or https:PORT (TLS, the certificate not checked).

usage: load.py PORT STOPFILE [THREADS] [PATH] [MAX]"""
import http.client
import os
import socket
import ssl
import sys
import threading
import time


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over a UNIX socket."""

    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


def connect(target):
    if target.startswith("unix:"):
        return UnixHTTPConnection(target[5:], timeout=10)
    if target.startswith("https:"):
        return http.client.HTTPSConnection("127.0.0.1", int(target[6:]), timeout=10,
                                           context=ssl._create_unverified_context())
    return http.client.HTTPConnection("127.0.0.1", int(target), timeout=10)


port, stopfile = sys.argv[1], sys.argv[2]
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
                conn = connect(port)
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
