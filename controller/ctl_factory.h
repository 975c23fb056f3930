/* ctl_factory: -f/--factory and the other Python settings, seen from the
 * controller (which never runs Python).
 *
 * A factory may set host, port, processes and threads, which the controller
 * must know before it binds and starts children. So, before binding, it runs
 * a probe: one spawning_child started the usual way (ctl_child_spawn) with
 * "probe": true in its config and no listening sockets, which runs the
 * config factory once, answers "options" (or "fatal") and exits (see
 * child/chd_factory.h). The options apply as defaults: the command line and
 * the --config file win. The serving children run the factory again
 * themselves and report its watch list with their source files.
 *
 * The factory is called with a dict of the options (see
 * ctl_childconf.h); its contract is in
 * child/python/spawning/__init__.py. */
#ifndef CTL_FACTORY_H
#define CTL_FACTORY_H

#include "ctl_options.h"

#include <jansson.h>
#include <stddef.h>

/* Most seconds a probe may take (importing a big settings module, say). */
#define CTL_FACTORY_PROBE_TIMEOUT 120.0

/* The X.Y of the Python spawning_child embeds (from the Makefile). */
const char *ctl_factory_python_version(void);

/* Checks --virtualenv DIR before anything starts: DIR must be a directory
 * holding lib/pythonX.Y/site-packages for the Python the child embeds.
 * Returns 0, or -ENOENT with one line in err. */
int ctl_factory_check_virtualenv(const ctl_config_t *cfg, char *err, size_t errlen);

/* With --factory, runs the probe and applies the options it reports with
 * ctl_options_apply_default. The option values point into *answer (a new
 * reference the caller must keep as long as cfg and then json_decref; NULL
 * without --factory). Returns 0, or a negative errno after logging why
 * (the factory's traceback, or its one-line complaint): exit 1. Call before
 * any socket is bound and before the event loop exists (it waits for the
 * probe with waitpid). */
int ctl_factory_probe(ctl_config_t *cfg, json_t **answer);

#endif
