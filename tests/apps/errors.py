"""Misbehaving apps, one route each.  Every exception message is unique so
a test can find its traceback in the log.

  /ok                    200 "ok <pid>\\n" (to check the process still serves)
  /raise                 raises RuntimeError('errors-app boom in app call')
  /raise-iter-first      start_response, then the iterator raises before
                         its first chunk ('errors-app boom before first chunk')
  /raise-iter-later      yields b"partial\\n", then raises
                         ('errors-app boom after first chunk')
  /crlf-value            header value containing CR LF (header injection)
  /lf-value              header value containing a bare LF
  /crlf-name             header name containing CR LF
  /crlf-status           status line containing CR LF
  /non-latin1-header     header value not encodable as latin-1 ('\u20ac')
  /bytes-header          header value given as bytes (PEP 3333: must be str)
  /exc-info-replace      start_response 200, then start_response 500 with
                         exc_info before any body: must replace the status
  /exc-info-after        yields a chunk, then start_response with exc_info:
                         the server must re-raise ('errors-app original
                         error after headers'); "NOT-REACHED" must not be sent
  /start-twice           start_response twice without exc_info: the second
                         call must raise, so the answer is a 500
  /no-start-response     returns a body without calling start_response
  /yield-str             yields a str instead of bytes
  /none                  returns None instead of an iterable
  /keywords              start_response(status=..., headers=...) by name:
                         allowed, answers 201 "by keyword"
  /bad-args?case=C       start_response called wrongly (C = extra, unknown,
                         twice-named, missing): each raises TypeError, which
                         the app reports in its 200 body as "TypeError: ..."
Validated routes: /ok, /exc-info-replace, /exc-info-after.
"""
import os
import sys
from wsgiref.validate import validator

from tests.apps._util import dispatch


def ok(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("ok %d\n" % os.getpid()).encode()]


def raise_(environ, start_response):
    raise RuntimeError("errors-app boom in app call")


def raise_iter_first(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])

    def gen():
        raise RuntimeError("errors-app boom before first chunk")
        yield b"never"
    return gen()


def raise_iter_later(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])

    def gen():
        yield b"partial\n"
        raise RuntimeError("errors-app boom after first chunk")
    return gen()


def crlf_value(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("X-Bad", "a\r\nX-Injected: yes")])
    return [b"should not be sent\n"]


def lf_value(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("X-Bad", "a\nX-Injected: yes")])
    return [b"should not be sent\n"]


def crlf_name(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("X-Injected: yes\r\nX-Bad", "a")])
    return [b"should not be sent\n"]


def crlf_status(environ, start_response):
    start_response("200 OK\r\nX-Injected: yes", [("Content-Type", "text/plain")])
    return [b"should not be sent\n"]


def non_latin1_header(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-Euro", "\u20ac")])
    return [b"should not be sent\n"]


def bytes_header(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-Bytes", b"raw")])
    return [b"should not be sent\n"]


def exc_info_replace(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-First", "yes")])
    try:
        raise ValueError("errors-app replaced before headers")
    except ValueError:
        start_response("503 Service Unavailable",
                       [("Content-Type", "text/plain"), ("X-Second", "yes")],
                       sys.exc_info())
    return [b"replaced-body\n"]


def exc_info_after(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])

    def gen():
        yield b"first-chunk\n"
        try:
            raise ValueError("errors-app original error after headers")
        except ValueError:
            start_response("500 Internal Server Error",
                           [("Content-Type", "text/plain")], sys.exc_info())
        yield b"NOT-REACHED\n"
    return gen()


def start_twice(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    start_response("201 Created", [("Content-Type", "text/plain")])
    return [b"second start_response was accepted\n"]


def no_start_response(environ, start_response):
    return [b"no start_response\n"]


def yield_str(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return ["a str, not bytes\n"]


def none(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return None


def keywords(environ, start_response):
    write = start_response(headers=[("Content-Type", "text/plain")], status="201 Created")
    write(b"by ")
    return [b"keyword\n"]


BAD_CALLS = {
    "extra": lambda sr: sr("200 OK", [], None, "extra"),
    "unknown": lambda sr: sr("200 OK", [], colour="red"),
    "twice-named": lambda sr: sr("200 OK", [], status="200 OK"),
    "missing": lambda sr: sr("200 OK"),
}


def bad_args(environ, start_response):
    case = environ["QUERY_STRING"].partition("=")[2]
    try:
        BAD_CALLS[case](start_response)
        message = "no error"
    except TypeError as e:
        message = "TypeError: %s" % e
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [message.encode() + b"\n"]


app = dispatch({
    "/ok": validator(ok),
    "/raise": raise_,
    "/raise-iter-first": raise_iter_first,
    "/raise-iter-later": raise_iter_later,
    "/crlf-value": crlf_value,
    "/lf-value": lf_value,
    "/crlf-name": crlf_name,
    "/crlf-status": crlf_status,
    "/non-latin1-header": non_latin1_header,
    "/bytes-header": bytes_header,
    "/exc-info-replace": validator(exc_info_replace),
    "/exc-info-after": validator(exc_info_after),
    "/start-twice": start_twice,
    "/no-start-response": no_start_response,
    "/yield-str": yield_str,
    "/none": none,
    "/keywords": keywords,
    "/bad-args": bad_args,
}, default=validator(ok))
