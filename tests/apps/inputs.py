"""Request-body (wsgi.input) apps, one route per way of reading.

Routes under wsgiref.validate (so read() always gets exactly one argument):
  /read-n?n=N      read(N) until b''; echoes the body.  Headers:
                   X-Reads (number of non-empty reads), X-After-EOF (length
                   of one more read(N) after EOF; must be 0).
  /readline        readline() until b''; JSON list of the lines.
  /readline-n?n=N  readline(N) until b''; JSON list of the lines.
  /readlines       readlines(); JSON list.
  /iter-validated  iteration through the validator's wrapper (readline()).
  /partial?n=N     reads only N bytes of the body, echoes them.
  /ignore          never touches wsgi.input; echoes PATH_INFO + method.
Unvalidated routes (they call what the validator forbids):
  /read-all        read() with no argument; echoes the body.
  /iter            `for line in wsgi.input`; JSON list of the lines.
  /read-none       read(-1) and read(None) are not required by PEP 3333,
                   so this route is not used by the suite.
Lines are decoded as latin-1 in the JSON lists.
"""
import json
from wsgiref.validate import validator

from tests.apps._util import dispatch, query


def _json(start_response, obj, extra=()):
    body = json.dumps(obj).encode("ascii")
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))] + list(extra))
    return [body]


def _lines(lines):
    return [line.decode("latin-1") for line in lines]


def read_n(environ, start_response):
    n = int(query(environ).get("n", "7"))
    inp = environ["wsgi.input"]
    chunks = []
    while True:
        c = inp.read(n)
        if not c:
            break
        chunks.append(c)
    after = inp.read(n)
    body = b"".join(chunks)
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("Content-Length", str(len(body))),
                              ("X-Reads", str(len(chunks))),
                              ("X-After-EOF", str(len(after)))])
    return [body]


def readline(environ, start_response):
    inp = environ["wsgi.input"]
    lines = []
    while True:
        line = inp.readline()
        if not line:
            break
        lines.append(line)
    return _json(start_response, _lines(lines))


def readline_n(environ, start_response):
    n = int(query(environ).get("n", "4"))
    inp = environ["wsgi.input"]
    lines = []
    while True:
        line = inp.readline(n)
        if not line:
            break
        lines.append(line)
    return _json(start_response, _lines(lines))


def readlines(environ, start_response):
    return _json(start_response, _lines(environ["wsgi.input"].readlines()))


def iterate(environ, start_response):
    return _json(start_response, _lines(list(environ["wsgi.input"])))


def read_all(environ, start_response):
    body = environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("Content-Length", str(len(body)))])
    return [body]


def partial(environ, start_response):
    n = int(query(environ).get("n", "3"))
    body = environ["wsgi.input"].read(n)
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("Content-Length", str(len(body)))])
    return [body]


def ignore(environ, start_response):
    body = ("%s %s\n" % (environ["REQUEST_METHOD"], environ["PATH_INFO"])).encode("latin-1")
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]


app = dispatch({
    "/read-n": validator(read_n),
    "/readline": validator(readline),
    "/readline-n": validator(readline_n),
    "/readlines": validator(readlines),
    "/iter-validated": validator(iterate),
    "/partial": validator(partial),
    "/read-all": read_all,
    "/iter": iterate,
}, default=validator(ignore))
