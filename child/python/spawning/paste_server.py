"""The PasteDeploy server runner: ``use = egg:Spawning`` in ``[server:main]``
makes ``pserve dev.ini`` (or ``paste.deploy.loadserver``) serve the ini's app
with Spawning::

    [server:main]
    use = egg:Spawning
    host = 127.0.0.1
    port = 8080
    processes = 2

The runner does not serve the app object PasteDeploy loaded in this process:
it replaces the process with the ``spawning`` binary, which loads the ini
through spawning.paste_factory in each of its children (so a reload re-reads
the ini). Every other option of the section is passed as the long option of
that name (``max_memory = 512M`` -> ``--max-memory=512M``; a flag such as
``sysinfo = true`` -> ``--sysinfo``). The binary is $SPAWNING_BIN, else the
one installed or built with this package, else ``spawning`` on $PATH.
"""
import os
import shutil

# Options that take no value: "true" adds the flag, "false" leaves it out.
FLAGS = ("daemonize", "coverage", "sysinfo", "no_keepalive", "reuse_port")
OLD_NAMES = {"num_processes": "processes", "threadpool_workers": "threads"}
TRUE = ("1", "true", "yes", "on")


def spawning_binary():
    """Path of the spawning controller to exec."""
    env = os.environ.get("SPAWNING_BIN")
    if env:
        return env
    try:
        from spawning import _paths
        candidate = os.path.join(_paths.BINDIR, "spawning")
        if os.access(candidate, os.X_OK):
            return candidate
    except ImportError:
        pass
    found = shutil.which("spawning")
    if found:
        return found
    raise RuntimeError("spawning binary not found: set SPAWNING_BIN")


def _option_args(kwargs):
    argv = []
    for key, value in kwargs.items():
        name = OLD_NAMES.get(key, key)
        if name in FLAGS:
            if str(value).strip().lower() in TRUE:
                argv.append("--" + name.replace("_", "-"))
            continue
        argv.append("--%s=%s" % (name.replace("_", "-"), value))
    return argv


def _overrides(global_conf):
    """Variables given on pserve's command line (name=value), as the ini's
    [DEFAULT] section does not hold them (or holds other values)."""
    from paste.deploy.loadwsgi import ConfigLoader
    defaults = ConfigLoader(global_conf["__file__"]).parser.defaults()
    return ["%s=%s" % (k, v) for k, v in global_conf.items()
            if k not in ("here", "__file__") and defaults.get(k) != v]


def command(global_conf, kwargs, app_name="main"):
    """The spawning command line for this server section."""
    ini = global_conf["__file__"]
    uri = ini if app_name == "main" else "%s#%s" % (ini, app_name)
    return ([spawning_binary(), "--factory=spawning.paste_factory.config_factory"]
            + _option_args(kwargs) + ["--", uri] + _overrides(global_conf))


def server_runner(wsgi_app, global_conf, **kwargs):
    """paste.server_runner: exec spawning on the ini's app (does not return)."""
    app_name = kwargs.pop("app_name", "main")
    argv = command(global_conf, kwargs, app_name)
    os.execv(argv[0], argv)


def server_factory(global_conf, **kwargs):
    """paste.server_factory: a server callable taking the app."""
    def serve(wsgi_app):
        server_runner(wsgi_app, global_conf, **kwargs)
    return serve
