"""Middleware for `spawning APP MW1 MW2 ...`.

Each of first/second/third wraps an app; the wrapped app adds a response
header X-Middleware-<name>: yes and appends its name to X-Middleware-Order.
The innermost middleware sees start_response first, so for
`spawning app first second` (served as second(first(app))) the order header
reads "first,second".
"""


def _make(name):
    def middleware(app):
        def wrapped(environ, start_response):
            def sr(status, headers, exc_info=None):
                headers = list(headers)
                order = [v for k, v in headers if k.lower() == "x-middleware-order"]
                headers = [(k, v) for k, v in headers if k.lower() != "x-middleware-order"]
                order = (order[0] + "," + name) if order else name
                headers.append(("X-Middleware-Order", order))
                headers.append(("X-Middleware-" + name, "yes"))
                if exc_info is None:
                    return start_response(status, headers)
                return start_response(status, headers, exc_info)
            return app(environ, sr)
        return wrapped
    middleware.__name__ = name
    return middleware


first = _make("first")
second = _make("second")
third = _make("third")


def not_callable_result(app):
    """A broken middleware: returns None instead of an app."""
    return None
