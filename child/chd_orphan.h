/* chd_orphan: what a child does once its controller is gone.
 *
 * The control channel reaching end-of-file means the controller died (even
 * by SIGKILL). The child then drains (chd_server.c, green.py): it stops
 * accepting, finishes what it has and exits. Two things the controller used
 * to guarantee must now come from the child itself:
 *   - a bound: the controller kills a draining child after --graceful-timeout;
 *     an orphan runs a watchdog thread that ends the process after that long,
 *     so a hung request cannot keep old code alive for ever;
 *   - the port: a new controller must be able to bind it at once. The drain
 *     takes the queued connections off the listening sockets and closes
 *     them; the event loop always has a thread to do it within a tick, even
 *     while the main thread runs a long request (chd_conn_loop.h).
 * Never needs the GIL. */
#ifndef CHD_ORPHAN_H
#define CHD_ORPHAN_H

#include "chd_config.h"

/* The controller is gone: starts the watchdog (once; no-op when the config
 * has no graceful timeout). Any thread. */
void chd_orphan_begin(const chd_config_t *cfg);

#endif
