"""Importing this module fails (for the import-failure tests)."""
raise RuntimeError("broken_import fails at import time")


def app(environ, start_response):  # pragma: no cover - never reached
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"unreachable\n"]
