#!/usr/bin/python3
"""Requests for the access log tests: THREADS clients each send N requests
`GET PATH-<thread>-<i>?n=<i>` to 127.0.0.1:PORT with the given User-Agent
and Referer (every third thread closes its connection after each response,
the others keep it alive). Prints the number of 200 answers; every other
outcome is printed on stderr and the exit status is 1.

usage: accesslog_client.py PORT PATH THREADS N USER_AGENT [REFERER]"""
import http.client
import sys
import threading

port, path, threads, n, agent = (int(sys.argv[1]), sys.argv[2], int(sys.argv[3]),
                                 int(sys.argv[4]), sys.argv[5])
referer = sys.argv[6] if len(sys.argv) > 6 else None
lock = threading.Lock()
counts = {"ok": 0, "bad": 0}


def client(t):
    keepalive = t % 3 != 2
    conn = None
    for i in range(n):
        headers = {"User-Agent": agent}
        if referer:
            headers["Referer"] = referer
        if not keepalive:
            headers["Connection"] = "close"
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
            conn.request("GET", "%s-%d-%d?n=%d" % (path, t, i, i), headers=headers)
            resp = conn.getresponse()
            resp.read()
            ok = resp.status == 200
            if not keepalive or resp.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except Exception as e:  # noqa: BLE001 - every failure is reported
            print("request failed: %r" % e, file=sys.stderr)
            ok, conn = False, None
        with lock:
            counts["ok" if ok else "bad"] += 1


workers = [threading.Thread(target=client, args=(t,)) for t in range(threads)]
for w in workers:
    w.start()
for w in workers:
    w.join()
print(counts["ok"])
sys.exit(1 if counts["bad"] else 0)
