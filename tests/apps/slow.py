"""?s=SECONDS sleeps that long, then answers "slept S\\n".
?started=PATH appends a line to PATH when the request starts, ?done=PATH
when the body is produced (so a test knows the request is in flight)."""
import time
from wsgiref.validate import validator

from tests.apps._util import mark, query


def raw_app(environ, start_response):
    q = query(environ)
    mark(q.get("started"), "started")
    s = float(q.get("s", "0"))
    time.sleep(s)
    mark(q.get("done"), "done")
    body = ("slept %s\n" % q.get("s", "0")).encode("ascii")
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]


app = validator(raw_app)
