"""Apps for the HTTP conformance tests (tests/bats/http_strict.bats).

/echo-body          reads the whole body in 8 KiB pieces, answers its length and sha256
/ignore-body        never reads the body
/environ            JSON of the str environ values
/big?mb=N           streams N MiB in 64 KiB chunks (for back-pressure)
"""
import hashlib
import json


def _query(environ):
    out = {}
    for part in environ.get("QUERY_STRING", "").split("&"):
        if "=" in part:
            k, v = part.split("=", 1)
            out[k] = v
    return out


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/echo-body":
        h = hashlib.sha256()
        n = 0
        while True:
            chunk = environ["wsgi.input"].read(8192)
            if not chunk:
                break
            n += len(chunk)
            h.update(chunk)
        body = ("%d %s\n" % (n, h.hexdigest())).encode()
    elif path == "/environ":
        body = json.dumps({k: v for k, v in environ.items() if isinstance(v, str)}).encode()
    elif path == "/big":
        mb = int(_query(environ).get("mb", "1"))
        start_response("200 OK", [("Content-Type", "application/octet-stream"),
                                  ("Content-Length", str(mb << 20))])
        block = b"x" * 65536
        return (block for _ in range(mb * 16))
    else:
        body = b"ok\n"
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
