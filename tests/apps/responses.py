"""Response-side apps, one route each.

Validated (wsgiref.validate) routes:
  /hello            "Hello, World!\\n" (the validator hides the list, so the
                    server sees an iterator of unknown length)
  /generator        yields chunk-1, chunk-2, b"" (empty!), chunk-3; no length
  /content-length   a generator with an explicit Content-Length
  /write            write() twice, then returns [b"returned\\n"]
  /write-only       write() only, returns []
  /status?code=C    answers with status C ("204 No Content", ...) and, except
                    for 204/304, a short body
  /teapot           "418 I'm a teapot" (reason phrase passed through)
  /cookies          two Set-Cookie headers
  /lower-cl         a generator with a lower-case 'content-length' header
  /latin1-header    a header value with a latin-1 character ('caf\xe9')
  /many-headers     100 headers X-H-0..99 and one 8 KiB header value
  /short-cl         Content-Length: 10 but only 5 bytes of body
  /long-cl          Content-Length: 5 but 10 bytes of body
Unvalidated routes:
  /one-element      [b"single"], no Content-Length
  /empty            [], no Content-Length
  /big?n=BYTES      a generator of n bytes in 64 KiB pieces, no length; the
                    content is the 16-byte pattern below repeated
  /file?path=P[&cl=N][&blk=B]
                    wsgi.file_wrapper(open(P, 'rb'), B); with cl, sends a
                    Content-Length: N header (N may be less than the size)
  /bytesio?n=BYTES  wsgi.file_wrapper over an io.BytesIO (no fileno())
"""
import io
from wsgiref.validate import validator

from tests.apps._util import dispatch, query

PATTERN = b"0123456789abcdef"


def _text(start_response, body, status="200 OK", extra=()):
    start_response(status, [("Content-Type", "text/plain")] + list(extra))
    return [body]


def hello(environ, start_response):
    return _text(start_response, b"Hello, World!\n")


def generator(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield b"chunk-1\n"
    yield b"chunk-2\n"
    yield b""
    yield b"chunk-3\n"


def content_length(environ, start_response):
    parts = [b"part-1\n", b"part-2\n", b"part-3\n"]
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(sum(map(len, parts))))])
    return iter(parts)


def write(environ, start_response):
    w = start_response("200 OK", [("Content-Type", "text/plain")])
    w(b"written-1\n")
    w(b"written-2\n")
    return [b"returned\n"]


def write_only(environ, start_response):
    w = start_response("200 OK", [("Content-Type", "text/plain")])
    w(b"only-written\n")
    return []


STATUS = {"200": "200 OK", "201": "201 Created", "204": "204 No Content",
          "304": "304 Not Modified", "404": "404 Not Found",
          "500": "500 Internal Server Error"}


def status(environ, start_response):
    code = query(environ).get("code", "200")
    if code in ("204", "304"):
        start_response(STATUS[code], [])
        return []
    return _text(start_response, ("status %s\n" % code).encode(), STATUS[code])


def teapot(environ, start_response):
    return _text(start_response, b"short and stout\n", "418 I'm a teapot")


def cookies(environ, start_response):
    return _text(start_response, b"cookies\n",
                 extra=[("Set-Cookie", "a=1; Path=/"), ("Set-Cookie", "b=2; Path=/")])


def lower_cl(environ, start_response):
    start_response("200 OK", [("content-type", "text/plain"),
                              ("content-length", "5")])
    return iter([b"low", b"cl"])


def short_cl(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "10")])
    return iter([b"short"])


def long_cl(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return iter([b"12345", b"EXTRA"])


def latin1_header(environ, start_response):
    return _text(start_response, b"latin-1\n", extra=[("X-Latin1", "caf\xe9")])


def many_headers(environ, start_response):
    extra = [("X-H-%d" % i, "v%d" % i) for i in range(100)]
    extra.append(("X-Big", "b" * 8192))
    return _text(start_response, b"many\n", extra=extra)


def one_element(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"single"]


def empty(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return []


def big(environ, start_response):
    n = int(query(environ).get("n", "1048576"))
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    block = PATTERN * 4096  # 64 KiB

    def gen():
        left = n
        while left > 0:
            piece = block[:left]
            left -= len(piece)
            yield piece
    return gen()


def file(environ, start_response):
    q = query(environ)
    f = open(q["path"], "rb")
    headers = [("Content-Type", "application/octet-stream")]
    if "cl" in q:
        headers.append(("Content-Length", q["cl"]))
    start_response("200 OK", headers)
    return environ["wsgi.file_wrapper"](f, int(q.get("blk", "8192")))


def bytesio(environ, start_response):
    n = int(query(environ).get("n", "100000"))
    data = (PATTERN * (n // len(PATTERN) + 1))[:n]
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    return environ["wsgi.file_wrapper"](io.BytesIO(data), 4096)


app = dispatch({
    "/hello": validator(hello),
    "/generator": validator(generator),
    "/content-length": validator(content_length),
    "/write": validator(write),
    "/write-only": validator(write_only),
    "/status": validator(status),
    "/teapot": validator(teapot),
    "/cookies": validator(cookies),
    "/lower-cl": validator(lower_cl),
    "/short-cl": validator(short_cl),
    "/long-cl": validator(long_cl),
    "/latin1-header": validator(latin1_header),
    "/many-headers": validator(many_headers),
    "/one-element": one_element,
    "/empty": empty,
    "/big": big,
    "/file": file,
    "/bytesio": bytesio,
})
