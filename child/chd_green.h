/* chd_green: green mode (--threads=0), on gevent.
 *
 * chd_green_prepare() monkeypatches the interpreter before the app is
 * imported (so the app's sockets, sleeps and locks cooperate), then
 * chd_green_run() runs the server loop of python/spawning/green.py (built
 * into the binary) on the gevent hub, through the `_spawning_green` module
 * defined here. Connections live in C (chd_green_conns.h): parked on the
 * hub's libev loop with no greenlet while they wait for a request, read and
 * parsed there without the GIL. A ready request runs in a worker greenlet
 * from a small reusable pool (the same WSGI code as threaded mode); socket
 * waits inside a request yield to the hub (chd_gil.h). Everything runs in
 * one OS thread: Python code with the GIL held, the hub's event wait and
 * the C watchers' callbacks without it (gevent releases it around ev_run). */
#ifndef CHD_GREEN_H
#define CHD_GREEN_H

#include "chd_config.h"
#include "chd_listeners.h"

#include <stddef.h>

/* Imports gevent and monkeypatches. GIL. Returns 0, or -1 with a
 * malloc'd explanation in *error_text (e.g. gevent is not installed). */
int chd_green_prepare(char **error_text);

/* Serves until drained. GIL held; the app is loaded and chd_wsgi_init done.
 * Returns 0, or -1 after logging the Python error. */
int chd_green_run(const chd_config_t *cfg, const chd_listeners_t *listeners, int control_fd);

#endif
