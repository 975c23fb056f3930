"""The default factory: ``args["args"]`` is APP followed by MIDDLEWARE, as on
the command line without --factory (the first middleware listed wraps the app
first)::

    spawning --factory=spawning.wsgi_factory.config_factory app:app mw.one mw.two
"""
from spawning import FactoryError, resolve


def config_factory(args):
    if not args.get("args"):
        raise FactoryError("spawning.wsgi_factory: an APP argument is needed")
    args["app_factory"] = "spawning.wsgi_factory.app_factory"
    return args


def app_factory(args):
    names = args["args"]
    app = resolve(names[0])
    if not callable(app):
        raise FactoryError("%s is not callable" % names[0])
    for name in names[1:]:
        app = resolve(name)(app)
        if not callable(app):
            raise FactoryError("middleware %s did not return a callable" % name)
    return app
