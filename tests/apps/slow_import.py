"""An app whose import takes 3 seconds (for /healthz before the first child is ready)."""
import time

time.sleep(3)


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"finally\n"]
