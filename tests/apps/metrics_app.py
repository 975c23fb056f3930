"""Known answers for the /metrics tests (tests/bats/metrics.bats).

  /ok        200 "ok"
  /fail      500 "failed" (an answer the app chose, no exception)
  /sleep     200 after 0.2 s (lands in the (0.1, 0.25] s duration bucket)
  /long?s=N  200 after N seconds (keeps a drain going)
  anything else: 404
"""
import time

from tests.apps._util import dispatch, query


def ok(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok\n"]


def fail(environ, start_response):
    start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
    return [b"failed\n"]


def sleep(environ, start_response):
    time.sleep(0.2)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"slept\n"]


def long(environ, start_response):
    time.sleep(float(query(environ).get("s", "3")))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"done\n"]


app = dispatch({"/ok": ok, "/fail": fail, "/sleep": sleep, "/long": long})
