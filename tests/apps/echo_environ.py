"""Returns the WSGI environ as JSON.

Every str value is included as-is, plus the wsgi.* flags, the type name of
every value (under "_types"), and process facts (_pid, _cwd, _sys_path).
?err=TEXT writes TEXT to wsgi.errors.  `app` runs under wsgiref.validate,
`raw_app` does not.
"""
import json
import os
import sys
import threading
from wsgiref.validate import validator

from tests.apps._util import query


def raw_app(environ, start_response):
    out = {k: v for k, v in environ.items() if isinstance(v, str)}
    out["wsgi.version"] = list(environ["wsgi.version"])
    for k in ("wsgi.multithread", "wsgi.multiprocess", "wsgi.run_once"):
        out[k] = environ[k]
    out["_types"] = {k: type(v).__name__ for k, v in environ.items()}
    out["_has_file_wrapper"] = callable(environ.get("wsgi.file_wrapper"))
    out["_pid"] = os.getpid()
    out["_thread"] = threading.get_ident()
    out["_cwd"] = os.getcwd()
    out["_sys_path"] = sys.path
    err = query(environ).get("err")
    if err:
        environ["wsgi.errors"].write(err + "\n")
        environ["wsgi.errors"].flush()
    body = json.dumps(out, sort_keys=True).encode("ascii")
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]


app = validator(raw_app)
