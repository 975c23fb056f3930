"""Glue spawning_child calls from C (child/chd_factory.c, child/chd_debug.c,
child/chd_python.c); not an API.

Values cross the C boundary as JSON text so the C side stays small.
"""
import copy
import json
import os
import site
import sys

from spawning import FactoryError, resolve

# Options a factory may change, by the name in its dict -> the long option.
OPTION_NAMES = {"host": "host", "port": "port", "processes": "processes",
                "threads": "threads", "num_processes": "processes",
                "threadpool_workers": "threads"}


def _call_config_factory(dotted, options_json):
    """Returns (args before the call, the factory's result)."""
    args = json.loads(options_json)
    before = copy.deepcopy(args)
    factory = resolve(dotted)
    if not callable(factory):
        raise FactoryError("--factory %s is not callable" % dotted)
    result = factory(args)
    if isinstance(result, dict):
        if "app_factory" not in result:
            raise FactoryError("--factory %s returned a dict without 'app_factory'" % dotted)
    elif not callable(result):
        raise FactoryError("--factory %s returned %s: neither a dict naming 'app_factory' "
                           "nor a WSGI application" % (dotted, type(result).__name__))
    return before, result


def _changed_options(before, result):
    """The options the factory changed, as {long option: str value}; the
    current names win over the old ones."""
    changed = {}
    for key in ("num_processes", "threadpool_workers", "host", "port", "processes",
                "threads"):
        if key in result and result[key] is not None and result[key] != before.get(key):
            changed[OPTION_NAMES[key]] = str(result[key])
    return changed


def _watch_list(result):
    watch = result.get("watch") or [] if isinstance(result, dict) else []
    if isinstance(watch, str):
        watch = [watch]
    return [os.path.abspath(str(p)) for p in watch]


def probe(dotted, options_json):
    """Runs the config factory once for the controller: returns the JSON of
    {"options": {...}, "watch": [...]}; raises what the factory raised."""
    before, result = _call_config_factory(dotted, options_json)
    options = _changed_options(before, result) if isinstance(result, dict) else {}
    return json.dumps({"options": options, "watch": _watch_list(result)})


def load_app(dotted, options_json):
    """Runs the config factory, then its app_factory: returns (app, watch list)."""
    _, result = _call_config_factory(dotted, options_json)
    if not isinstance(result, dict):
        return result, []
    app_factory = resolve(result["app_factory"])
    app = app_factory(result)
    if not callable(app):
        raise FactoryError("app_factory %r returned %s, not a WSGI application"
                           % (result["app_factory"], type(app).__name__))
    return app, _watch_list(result)


def add_virtualenv(directory, first):
    """Adds the virtualenv's site-packages (and its .pth files) to sys.path,
    ahead of the system's, at index `first` (after the working directory and
    --pythonpath entries)."""
    sitedir = os.path.join(directory, "lib", "python%d.%d" % sys.version_info[:2],
                           "site-packages")
    if not os.path.isdir(sitedir):
        raise FactoryError("--virtualenv %s: no %s in it (not a virtualenv for Python %d.%d)"
                           % (directory, os.path.relpath(sitedir, directory),
                              *sys.version_info[:2]))
    old = list(sys.path)
    site.addsitedir(sitedir)
    added = [p for p in sys.path if p not in old]
    sys.path[:] = old[:first] + added + old[first:]
