#!/usr/bin/python3
"""Hold N slowloris connections to 127.0.0.1:PORT: each sends a request head
one byte at a time, a byte every INTERVAL seconds (spread over the
connections), and never finishes it. A connection the server closes (408
after --header-timeout) is opened again, so N stay open.

Usage: slowloris.py PORT N [--interval SECONDS] [--deadline SECONDS]

Prints `ready OPENED FAILED` once all are open, then follows commands on
stdin, one a line:
    check   print `alive K reopened R bytes B`
    close   close them all and exit (EOF on stdin does the same)
Bounded: connect timeouts, an overall deadline, exit when stdin closes.
"""
import argparse
import resource
import selectors
import socket
import sys
import time

HEAD = b"GET /slowloris HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slowloris\r\n" + b"X-a: b\r\n" * 500


def raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(need + 256, hard) if hard != resource.RLIM_INFINITY else need + 256
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.setblocking(False)
        self.pos = 0

    def tick(self):
        """Sends the next byte; False when the connection is gone."""
        try:
            if self.sock.send(HEAD[self.pos % len(HEAD):self.pos % len(HEAD) + 1]) != 1:
                return False
        except OSError:
            return False
        self.pos += 1
        return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("n", type=int)
    ap.add_argument("--interval", type=float, default=3.0)
    ap.add_argument("--deadline", type=float, default=300)
    args = ap.parse_args()
    raise_nofile(args.n)
    deadline = time.monotonic() + args.deadline
    conns, failed, reopened, sent = [], 0, 0, 0
    for _ in range(args.n):
        try:
            c = Conn(args.port)
            c.tick()  # a first byte, so the server accepts it now (TCP_DEFER_ACCEPT)
            conns.append(c)
        except OSError:
            failed += 1
    print("ready %d %d" % (len(conns), failed), flush=True)
    sel = selectors.DefaultSelector()
    sel.register(sys.stdin, selectors.EVENT_READ)
    step = args.interval / max(1, len(conns))  # one connection's byte per step
    i = 0
    next_tick = time.monotonic()
    while time.monotonic() < deadline:
        timeout = max(0.0, next_tick - time.monotonic())
        for key, _ in sel.select(timeout):
            line = sys.stdin.readline()
            cmd = line.strip()
            if not line or cmd == "close":
                for c in conns:
                    c.sock.close()
                return
            if cmd == "check":
                print("alive %d reopened %d bytes %d" % (len(conns), reopened, sent), flush=True)
        now = time.monotonic()
        while conns and next_tick <= now:
            c = conns[i % len(conns)]
            if c.tick():
                sent += 1
            else:
                c.sock.close()
                try:
                    conns[i % len(conns)] = Conn(args.port)
                    conns[i % len(conns)].tick()
                    reopened += 1
                except OSError:
                    del conns[i % len(conns)]
            i += 1
            next_tick += step
        if not conns:
            next_tick = now + 0.1


if __name__ == "__main__":
    main()
