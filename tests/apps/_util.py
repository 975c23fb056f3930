"""Small helpers shared by the test apps (not an app itself)."""
from urllib.parse import parse_qs


def query(environ):
    """The query string as a dict of first values."""
    return {k: v[0] for k, v in
            parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).items()}


def dispatch(routes, default=None):
    """A WSGI app that picks routes[PATH_INFO]; 404 for an unknown path."""
    def app(environ, start_response):
        handler = routes.get(environ.get("PATH_INFO", "/"), default)
        if handler is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"no such route\n"]
        return handler(environ, start_response)
    return app


def mark(path, text):
    """Append a line to the file at path (used to record side effects)."""
    if path:
        with open(path, "a") as f:
            f.write(text + "\n")
