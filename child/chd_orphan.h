/* chd_orphan: what a child does once its controller is gone.
 *
 * The control channel reaching end-of-file means the controller died (even
 * by SIGKILL). The child then drains (chd_server.c, green.py): it stops
 * accepting, finishes what it has and exits. Two things the controller used
 * to guarantee must now come from the child itself:
 *   - a bound: the controller kills a draining child after --graceful-timeout;
 *     an orphan runs a watchdog thread that ends the process after that long,
 *     so a hung request cannot keep old code alive for ever;
 *   - the port: a new controller must be able to bind it at once. With
 *     --threads 1 the I/O thread may be inside a long request when the
 *     heartbeat thread (chd_heartbeat.c) sees the end-of-file; it takes the
 *     queued connections off the listening sockets and lets go of them right
 *     there, and the I/O thread adopts those connections when its request
 *     ends (served with "Connection: close", like any drained connection).
 * Never needs the GIL. */
#ifndef CHD_ORPHAN_H
#define CHD_ORPHAN_H

#include "chd_config.h"
#include "chd_listeners.h"

struct chd_conn_loop;

/* The controller is gone: starts the watchdog (once; no-op when the config
 * has no graceful timeout). Any thread. */
void chd_orphan_begin(const chd_config_t *cfg);

/* Heartbeat thread, while the I/O thread runs a request inline: accepts
 * what is queued on the listening sockets and closes them (their descriptor
 * numbers stay taken, by /dev/null, until the I/O thread closes them).
 * Once; later calls do nothing. */
void chd_orphan_release_listeners(chd_listeners_t *listeners);

/* I/O thread: opens the connections chd_orphan_release_listeners took. */
void chd_orphan_adopt(struct chd_conn_loop *requests);

#endif
