"""Debugging aids, never to be enabled in production: they show the app's
source coverage and the server's environment to anyone who asks.

--coverage  measures the app with coverage.py (started before the app is
            imported) and serves the report at /_coverage (text).
--sysinfo   serves /_sysinfo: JSON of the platform, Python, sys.path, pid.
"""
import io
import json
import os
import platform
import sys
import threading

_coverage = None


def start_coverage():
    """Starts measuring (before the app is imported, so its module-level
    lines count too)."""
    global _coverage
    import coverage
    # Measure the app, not this package.
    _coverage = coverage.Coverage(data_file=None,
                                  omit=[os.path.join(os.path.dirname(__file__), "*")])
    _coverage.start()


def _trace_this_thread():
    # coverage.py traces the threads that start after it; the child's
    # worker threads start in C, so each picks the tracer up here.
    hook = threading.gettrace()
    if hook is not None and sys.gettrace() is None:
        sys.settrace(hook)


def _coverage_report():
    out = io.StringIO()
    try:
        _coverage.report(file=out, show_missing=True, ignore_errors=True)
    except Exception as e:  # "No data to report." and the like
        out.write("coverage: %s\n" % e)
    return out.getvalue()


def _sysinfo():
    return {
        "platform": platform.platform(),
        "python_version": sys.version,
        "python_implementation": platform.python_implementation(),
        "executable": sys.executable,
        "prefix": sys.prefix,
        "sys_path": list(sys.path),
        "pid": os.getpid(),
        "cwd": os.getcwd(),
    }


def _respond(start_response, body, content_type):
    data = body.encode("utf-8")
    start_response("200 OK", [("Content-Type", content_type),
                              ("Content-Length", str(len(data))),
                              ("Cache-Control", "no-store")])
    return [data]


def wrap(app, coverage, sysinfo):
    """The app with /_coverage and/or /_sysinfo answered in front of it."""
    def debug_app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if coverage:
            _trace_this_thread()
            if path == "/_coverage" and _coverage is not None:
                return _respond(start_response, _coverage_report(), "text/plain; charset=utf-8")
        if sysinfo and path == "/_sysinfo":
            return _respond(start_response, json.dumps(_sysinfo(), indent=2) + "\n",
                            "application/json")
        return app(environ, start_response)
    return debug_app
