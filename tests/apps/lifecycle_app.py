"""App for the lifecycle tests (tests/bats/lifecycle.bats).

/pid          the serving process's pid
/leak?mb=N    keeps N MiB more for as long as the process lives
/sleep?s=N    sleeps N seconds
/print        prints a line to standard output (for --stdout)
"""
import os
import time

_kept = []


def app(environ, start_response):
    path = environ["PATH_INFO"]
    query = environ.get("QUERY_STRING", "")
    arg = query.partition("=")[2]
    if path == "/leak":
        _kept.append(bytearray(int(arg or "1") << 20))
        body = ("kept %d MiB\n" % len(_kept)).encode()
    elif path == "/print":
        print("printed by the app", flush=True)
        body = b"printed\n"
    elif path == "/sleep":
        time.sleep(float(arg or "1"))
        body = b"slept\n"
    else:
        body = ("%d\n" % os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
