"""Serving a Django project::

    spawning --chdir /srv/mysite --factory=spawning.django_factory.config_factory mysite.settings

The one argument is the settings module; it becomes DJANGO_SETTINGS_MODULE
and the app is Django's own ``get_wsgi_application()``.
"""
import importlib.util
import os

from spawning import FactoryError


def config_factory(args):
    positional = args.get("args") or []
    if len(positional) != 1:
        raise FactoryError("spawning.django_factory: one argument, the settings module "
                           "(e.g. mysite.settings), is needed")
    settings = positional[0]
    try:
        found = importlib.util.find_spec(settings) is not None
    except ModuleNotFoundError:
        found = False
    if not found:
        raise FactoryError("%s: no such settings module (is its directory --chdir or "
                           "--pythonpath?)" % settings)
    os.environ["DJANGO_SETTINGS_MODULE"] = settings
    args["django_settings"] = settings
    args["app_factory"] = "spawning.django_factory.app_factory"
    return args


def app_factory(args):
    os.environ["DJANGO_SETTINGS_MODULE"] = args["django_settings"]
    from django.core.wsgi import get_wsgi_application
    return get_wsgi_application()
