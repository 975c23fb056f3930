/* chd_server: a threaded child's event loop: accept, signals, drain.
 *
 * Accepts on the listening sockets handed over by the controller and gives
 * each connection to the request machinery (chd_conn_loop.h, which owns a
 * request's life from its first byte to its end), listens on the control
 * channel (chd_control.c), and drains: on SIGTERM, a "stop" message or the
 * controller going away it stops accepting, answers with "Connection:
 * close", closes connections still idle after CHD_DRAIN_GRACE, finishes
 * in-flight requests and returns from chd_server_run(). SIGINT and SIGQUIT
 * end the process at once. Runs on whichever thread holds the loop
 * (chd_conn_loop.h), never holds the GIL. */
#ifndef CHD_SERVER_H
#define CHD_SERVER_H

#include "chd_config.h"
#include "chd_conn.h"
#include "chd_conn_loop.h"
#include "chd_control.h"
#include "chd_listeners.h"
#include "chd_stats.h"

#include <ev.h>
#include <stdatomic.h>
#include <stdbool.h>

typedef struct chd_server {
    struct ev_loop *loop;
    const chd_config_t *cfg;
    chd_listeners_t listeners;
    ev_io accept_watchers[CHD_MAX_LISTENERS];
    ev_timer accept_pause; /* out of descriptors: retry accepting later */
    chd_control_t control;
    ev_io control_watcher;
    ev_signal sig_term, sig_int, sig_quit;
    chd_conn_env_t env;    /* what the connections see (their list, draining, ...) */
    chd_conn_loop_t requests; /* the request machinery: dispatch, pool, completion */
} chd_server_t;

/* Sets up the loop, the watchers and the request machinery (worker pool,
 * standby thread); the server takes over the listening sockets. Returns
 * 0 or -errno. */
int chd_server_init(chd_server_t *s, const chd_config_t *cfg, const chd_listeners_t *listeners,
                    int control_fd, const chd_handler_t *handler);

/* Runs until drained. Then stops the workers (joining them). */
void chd_server_run(chd_server_t *s);

/* Starts draining (idempotent). I/O thread. */
void chd_server_drain(chd_server_t *s);

#endif
