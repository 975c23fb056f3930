"""The smallest app: `spawning tests.apps.hello:app` (used by the README)."""
from wsgiref.validate import validator


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"Hello, World!\n"]


# The same app under wsgiref's PEP 3333 checker.
validated_app = validator(app)
