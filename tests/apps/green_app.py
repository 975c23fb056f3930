"""App for the green-mode tests (tests/bats/green.bats).

/sleep?s=N   sleeps N seconds (time.sleep: a gevent sleep once patched)
/facts       JSON: wsgi.multithread, whether socket/time are monkeypatched
/echo        echoes the request body (read in pieces)
/inflight    how many /sleep requests are running
"""
import json
import time
from wsgiref.validate import validator

_sleeping = [0]


def raw_app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/sleep":
        s = float(environ["QUERY_STRING"].partition("s=")[2] or "1")
        _sleeping[0] += 1
        try:
            time.sleep(s)
        finally:
            _sleeping[0] -= 1
        body = b"slept\n"
    elif path == "/inflight":
        body = ("%d\n" % _sleeping[0]).encode()
    elif path == "/facts":
        import gevent.monkey
        body = json.dumps({
            "multithread": environ["wsgi.multithread"],
            "multiprocess": environ["wsgi.multiprocess"],
            "socket_patched": gevent.monkey.is_module_patched("socket"),
            "time_patched": gevent.monkey.is_module_patched("time"),
        }).encode()
    elif path == "/echo":
        parts = []
        while True:
            chunk = environ["wsgi.input"].read(4096)
            if not chunk:
                break
            parts.append(chunk)
        body = b"".join(parts)
    else:
        body = b"green\n"
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]


app = validator(raw_app)
