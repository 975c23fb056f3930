"""An app for the TLS tests.

  /        "Hello, TLS!\\n"
  /env     the environ's strings as JSON (wsgi.url_scheme, HTTPS, SSL_*)
  /file?path=P   wsgi.file_wrapper over the file at P
  /slow?s=SECONDS  answers after sleeping (a request in flight during reloads)
"""
import json
import time

from tests.apps._util import dispatch, query


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "12")])
    return [b"Hello, TLS!\n"]


def env(environ, start_response):
    body = json.dumps({k: v for k, v in environ.items() if isinstance(v, str)}).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


def file(environ, start_response):
    f = open(query(environ)["path"], "rb")
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    return environ["wsgi.file_wrapper"](f, 65536)


def slow(environ, start_response):
    time.sleep(float(query(environ).get("s", "0.5")))
    return hello(environ, start_response)


app = dispatch({"/": hello, "/env": env, "/file": file, "/slow": slow})
