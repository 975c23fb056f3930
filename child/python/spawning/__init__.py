"""Spawning's Python side: the factories a child can be started with
(``spawning --factory=DOTTED ARGS``), the PasteDeploy server runner, and the
glue spawning_child calls (``_child``).

A factory is ``config_factory(args)``: ``args`` is a dict of the parsed
options ("host", "port", "processes", "threads", the old names
"num_processes" and "threadpool_workers", ...) with the positional arguments
under "args". It returns a dict (usually ``args`` updated) naming
"app_factory" (a dotted name or a callable taking that dict and returning the
WSGI app) and optionally "watch" (files reloaded on under --reload=dev), or it
returns the WSGI app itself. Options it changes apply unless the command line
set them.
"""
import importlib


class FactoryError(Exception):
    """A factory's complaint about its input: reported as one line, without
    a traceback (a missing ini section, a missing argument)."""


def resolve(name):
    """The object named by "pkg.module:attr.sub" or "pkg.module.attr".

    A module of the name that does not exist is a FactoryError; an import
    error raised inside an existing module propagates with its traceback."""
    if not isinstance(name, str):
        return name
    if ":" in name:
        module_name, _, attrs = name.partition(":")
    else:
        module_name, _, attrs = name.rpartition(".")
    if not module_name or not attrs:
        raise FactoryError("%r is not of the form pkg.module.callable or pkg.module:callable"
                           % name)
    try:
        obj = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name and (module_name == e.name or module_name.startswith(e.name + ".")):
            raise FactoryError("%s: no module named %r" % (name, e.name)) from None
        raise
    for attr in attrs.split("."):
        try:
            obj = getattr(obj, attr)
        except AttributeError:
            raise FactoryError("%s: module %r has no attribute %r"
                               % (name, module_name, attr)) from None
    return obj
