"""The app the soak suite (tests/soak/soak.py) serves.

/             "VERSION PID\\n": which code (SOAK_VERSION in the environment)
              and which process answered
/leak         keeps LEAK_KB KiB more per request (query kb=N), up to 512 MiB
              per process, for --max-memory
/hang?s=N     runs N seconds (default 60) without answering: a hung request
              for --timeout
/sleep?s=N    sleeps N seconds, then answers like /
"""
import os
import time

from tests.apps._util import query

VERSION = os.environ.get("SOAK_VERSION", "1")
LEAK_CAP = 512 << 20
_kept = []
_kept_bytes = [0]


def _answer(start_response, body, status="200 OK"):
    start_response(status, [("Content-Type", "text/plain"),
                             ("Content-Length", str(len(body)))])
    return [body]


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/leak":
        size = int(query(environ).get("kb", "64")) << 10
        if _kept_bytes[0] + size <= LEAK_CAP:
            block = bytearray(size)
            block[::4096] = b"x" * len(block[::4096])  # touch every page: it counts in RSS
            _kept.append(block)
            _kept_bytes[0] += size
    elif path == "/hang":
        time.sleep(float(query(environ).get("s", "60")))
    elif path == "/sleep":
        time.sleep(float(query(environ).get("s", "1")))
    return _answer(start_response, ("%s %d\n" % (VERSION, os.getpid())).encode())
