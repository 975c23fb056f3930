"""The benchmark app, served identically by Spawning and every peer server.

    /        Hello, World! (14 bytes)
    /64k     a 64 KiB body
    /upload  reads the whole request body, answers its length

Every response carries a Content-Length, as a framework's would, so every
server may keep the connection alive.
"""

HELLO = b"Hello, World!\n"
BIG = b"x" * 65536
CHUNK = 65536


def _read_body(environ):
    """Read wsgi.input to the end (CONTENT_LENGTH bytes); return the count."""
    stream = environ["wsgi.input"]
    left = int(environ.get("CONTENT_LENGTH") or 0)
    total = 0
    while left > 0:
        data = stream.read(min(CHUNK, left))
        if not data:
            break
        total += len(data)
        left -= len(data)
    return total


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/":
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("Content-Length", "14")])
        return [HELLO]
    if path == "/64k":
        start_response("200 OK", [("Content-Type", "application/octet-stream"),
                                  ("Content-Length", str(len(BIG)))])
        return [BIG]
    if path == "/upload":
        body = b"%d\n" % _read_body(environ)
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("Content-Length", str(len(body)))])
        return [body]
    start_response("404 Not Found", [("Content-Type", "text/plain"),
                                     ("Content-Length", "10")])
    return [b"not found\n"]
