"""App for the --timeout tests (tests/bats/timeout.bats): requests that
run too long in the ways a real app gets stuck.

/spin?s=N     loops in Python for N seconds (holds the GIL but for switches)
/nap?s=N      sleeps N seconds in time.sleep (the GIL released; in green
              mode a patched, cooperative sleep)
/trickle?s=N  sends its head and a first chunk, then sleeps N seconds
/slurp        reads its whole body from wsgi.input, however slowly it comes
/pid          the serving process's pid
"""
import os
import time


def spin(seconds):
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        n += 1
    return n


def nap(seconds):
    time.sleep(seconds)


def slurp(stream):
    return stream.read()


def trickle(seconds):
    yield b"first chunk\n"
    nap(seconds)
    yield b"never seen\n"


def app(environ, start_response):
    path = environ["PATH_INFO"]
    seconds = float(environ.get("QUERY_STRING", "").partition("=")[2] or "0")
    if path == "/trickle":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return trickle(seconds)
    if path == "/slurp":
        slurp(environ["wsgi.input"])
    elif path == "/spin":
        spin(seconds)
    elif path == "/nap":
        nap(seconds)
    body = ("%d\n" % os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
