"""Records whether the server called close() on the response iterable.

?path=FILE  close() appends "closed" to FILE; the app appends "called" when
            it is invoked.
?mode=      normal       3 chunks, no length
            length       3 chunks with Content-Length
            raise-first  the iterator raises before its first chunk
            raise-later  the iterator raises after the first chunk
            stream       up to 200 chunks of 64 KiB, 0.05 s apart (for a
                         client that goes away mid-body)
`app` is not validated (the point is what the server itself does);
`validated_app` is the same under wsgiref.validate.
"""
import time
from wsgiref.validate import validator

from tests.apps._util import mark, query


class Body:
    def __init__(self, path, mode):
        self.path = path
        self.mode = mode

    def __iter__(self):
        if self.mode == "raise-first":
            raise RuntimeError("closing-app raise-first")
        yield b"chunk-1\n"
        if self.mode == "raise-later":
            raise RuntimeError("closing-app raise-later")
        if self.mode == "stream":
            for _ in range(200):
                time.sleep(0.05)
                yield b"x" * 65536
            return
        yield b"chunk-2\n"
        yield b"chunk-3\n"

    def close(self):
        mark(self.path, "closed")


def app(environ, start_response):
    q = query(environ)
    path = q.get("path")
    mode = q.get("mode", "normal")
    mark(path, "called")
    headers = [("Content-Type", "text/plain")]
    if mode == "length":
        headers.append(("Content-Length", str(3 * len(b"chunk-1\n"))))
    start_response("200 OK", headers)
    return Body(path, mode)


validated_app = validator(app)
