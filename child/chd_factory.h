/* chd_factory: loading the app through -f/--factory DOTTED.
 *
 * The factory is `config_factory(args)` (see child/python/spawning/
 * __init__.py for the contract); the Python side of this module is
 * spawning._child. The controller cannot run Python, so before it binds it
 * starts one child in probe mode (config "probe": true, no listening
 * sockets): that child runs the config factory once and answers one message,
 *
 *   "options"  "options": {long option: string value} the factory changed
 *              (host, port, processes, threads; the old names num_processes
 *              and threadpool_workers mapped to theirs), "watch": [paths]
 *   "fatal"    "error": the traceback, or one line for spawning.FactoryError
 *
 * and exits. Every serving child then runs the config factory and the
 * app_factory it names itself, so a reload re-reads what the factory reads
 * (an ini file, say). All functions need the GIL. */
#ifndef CHD_FACTORY_H
#define CHD_FACTORY_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "chd_config.h"

#include <jansson.h>

/* Calls cfg->factory and its app_factory. Returns the app (new reference)
 * and stores the factory's "watch" list (new reference, absolute paths as
 * str; empty when it named none) in *watch; or returns NULL with
 * *error_text set to a malloc'd description (see chd_python_format_error). */
PyObject *chd_factory_load_app(const chd_config_t *cfg, PyObject **watch, char **error_text);

/* Probe mode: runs the config factory once. Returns the message to send to
 * the controller ("options" or "fatal"; new reference, never NULL unless
 * memory ran out). */
json_t *chd_factory_probe(const chd_config_t *cfg);

#endif
