"""Serving a PasteDeploy ini file::

    spawning --factory=spawning.paste_factory.config_factory dev.ini [name=value ...]

The app is ``[app:main]`` (``dev.ini#name`` for ``[app:name]``, or a
composite/pipeline/filter-app of that name), loaded with PasteDeploy;
``name=value`` arguments override the ini's [DEFAULT] variables, as
``pserve dev.ini name=value`` does. ``host``, ``port``, ``processes`` and
``threads`` (and the old ``num_processes`` and ``threadpool_workers``) in
``[server:main]`` apply unless the command line sets them. The ini file is
watched under --reload=dev.
"""
import os

from spawning import FactoryError

# [server:main] names that are Spawning options.
SERVER_OPTIONS = ("host", "port", "processes", "threads", "num_processes",
                  "threadpool_workers")


def _split_uri(arg):
    path, _, name = arg.partition("#")
    return os.path.abspath(path), name or "main"


def _overrides(positional):
    overrides = {}
    for item in positional:
        name, eq, value = item.partition("=")
        if not eq or not name:
            raise FactoryError("spawning.paste_factory: %r is not of the form name=value" % item)
        overrides[name] = value
    return overrides


def _loader(path, overrides):
    from paste.deploy.loadwsgi import ConfigLoader
    if not os.path.isfile(path):
        raise FactoryError("%s: no such file" % path)
    try:
        loader = ConfigLoader(path)
    except Exception as e:  # a syntax error: name the file, one line
        raise FactoryError("%s: %s" % (path, " ".join(str(e).split()))) from None
    loader.update_defaults(overrides, overwrite=False)
    return loader


def _check_app_section(loader, path, name):
    from paste.deploy.loadwsgi import APP
    try:
        loader.find_config_section(APP, name=name)
    except LookupError:
        raise FactoryError("%s: no [app:%s] section" % (path, name)) from None


def _server_options(loader):
    parser = loader.parser
    if not parser.has_section("server:main"):
        return {}
    return {key: parser.get("server:main", key) for key in SERVER_OPTIONS
            if parser.has_option("server:main", key)}


def config_factory(args):
    positional = args.get("args") or []
    if not positional:
        raise FactoryError("spawning.paste_factory: the ini file is needed "
                           "(INI[#name] [name=value ...])")
    path, name = _split_uri(positional[0])
    overrides = _overrides(positional[1:])
    loader = _loader(path, overrides)
    _check_app_section(loader, path, name)
    args.update(_server_options(loader))
    args["paste_ini"] = path
    args["paste_app"] = name
    args["paste_global_conf"] = overrides
    args["watch"] = list(args.get("watch") or []) + [path]
    args["app_factory"] = "spawning.paste_factory.app_factory"
    return args


def app_factory(args):
    from paste.deploy import loadapp
    return loadapp("config:" + args["paste_ini"], name=args["paste_app"],
                   global_conf=dict(args["paste_global_conf"]))
