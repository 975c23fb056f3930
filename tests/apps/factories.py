"""Config factories for tests/bats/factory.bats (spawning --factory=...).

FACTORY_PORT / FACTORY_THREADS in the environment: what `with_options` sets.
FACTORY_GREETING_FILE: a file `greeting` reads at factory time (so a reload
that re-runs the factory shows its new content).
"""
import os


def _app(text):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [text.encode()]
    return app


def with_options(args):
    """Sets port and the old threadpool_workers name; the app reports what it got."""
    args["port"] = int(os.environ["FACTORY_PORT"])
    args["threadpool_workers"] = int(os.environ.get("FACTORY_THREADS", "2"))
    args["app_factory"] = "tests.apps.factories:report_app"
    return args


def report_app(args):
    """Reports the port it is served on and the threads and args it was given."""
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [("port=%s threads=%s args=%s\n" % (environ["SERVER_PORT"], args["threads"],
                                                   ",".join(args["args"]))).encode()]
    return app


def greeting(args):
    with open(os.environ["FACTORY_GREETING_FILE"]) as f:
        args["greeting"] = f.read().strip()
    args["watch"] = [os.environ["FACTORY_GREETING_FILE"]]
    args["app_factory"] = lambda a: _app("%s (pid %d)\n" % (a["greeting"], os.getpid()))
    return args


def direct(args):
    """Returns the WSGI app itself."""
    return _app("direct: %s\n" % " ".join(args["args"]))


def raises(args):
    raise RuntimeError("this factory is broken on purpose")


def not_a_dict(args):
    return 42


def not_as_root(args):
    """Refuses to run as root: the factory is the app's code, and under
    --chuid it must run as that user, in the probe too."""
    if os.getuid() == 0:
        raise RuntimeError("the factory ran as root")
    return _app("factory uid %d\n" % os.getuid())
