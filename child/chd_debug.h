/* chd_debug: the debugging aids --coverage and --sysinfo (never to be on in
 * production: they show source and environment to any client).
 *
 * --coverage starts coverage.py (Debian's python3-coverage) before the app
 * is imported and answers /_coverage with a text report; --sysinfo answers
 * /_sysinfo with JSON of the platform, Python and sys.path. Both are a WSGI
 * wrapper around the app (spawning.debug); with neither, the app is left
 * untouched. All functions need the GIL. */
#ifndef CHD_DEBUG_H
#define CHD_DEBUG_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "chd_config.h"

/* Starts coverage measurement when cfg->coverage; call before the app is
 * imported. Returns 0, or -1 with *error_text set (malloc'd). */
int chd_debug_start(const chd_config_t *cfg, char **error_text);

/* Wraps `app` (reference stolen) for /_coverage and /_sysinfo as cfg asks.
 * Returns a new reference (app itself when neither is on), or NULL with
 * *error_text set (malloc'd). */
PyObject *chd_debug_wrap(PyObject *app, const chd_config_t *cfg, char **error_text);

#endif
