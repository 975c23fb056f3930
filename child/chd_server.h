/* chd_server: a child's event loop.
 *
 * Accepts on the listening socket handed over by the controller, keeps the
 * list of connections, feeds complete requests to the worker pool, listens
 * on the control channel (chd_control.c), and drains: on SIGTERM, a "stop"
 * message or the controller going away it stops accepting, answers with
 * "Connection: close", closes connections still idle after CHD_DRAIN_GRACE,
 * finishes in-flight requests and returns from chd_server_run(). SIGINT and
 * SIGQUIT end the process at once. Runs on the I/O thread, never holds the
 * GIL; requests reach Python only through `handler`. */
#ifndef CHD_SERVER_H
#define CHD_SERVER_H

#include "chd_config.h"
#include "chd_conn.h"
#include "chd_control.h"
#include "chd_heartbeat.h"
#include "chd_listeners.h"
#include "chd_pool.h"
#include "chd_stats.h"

#include <ev.h>
#include <stdatomic.h>
#include <stdbool.h>

/* What runs a request: `handle` on a worker thread without the GIL,
 * `thread_start`/`thread_stop` once per worker thread; `handle_inline`
 * on the I/O thread for the fast path (NULL: never inline). */
typedef struct {
    void (*handle)(chd_conn_t *conn, void *ctx);
    void (*handle_inline)(chd_conn_t *conn, void *tstate);
    void (*thread_start)(void *ctx);
    void (*thread_stop)(void *ctx);
    void *ctx;
} chd_handler_t;

#define CHD_DRAIN_GRACE 1.0 /* seconds idle connections may still send a request */


typedef struct chd_server {
    struct ev_loop *loop;
    const chd_config_t *cfg;
    chd_handler_t handler;
    chd_listeners_t listeners;
    ev_io accept_watchers[CHD_MAX_LISTENERS];
    ev_timer accept_pause; /* out of descriptors: retry accepting later */
    chd_control_t control;
    ev_io control_watcher;
    ev_signal sig_term, sig_int, sig_quit;
    chd_pool_t pool;
    chd_stats_t stats;
    chd_conn_env_t env;     /* what the connections see (their list, draining, ...) */
    void *inline_tstate;    /* the I/O thread's Python thread state, for the fast path */
    atomic_bool stop_after_inline; /* "stop" came while the I/O thread ran a request */
    ev_async wake;          /* lets the heartbeat thread pass that "stop" on */
    chd_heartbeat_t heartbeat;
} chd_server_t;

/* The --threads 1 fast path: runs the request of conn on the I/O thread
 * (taking the GIL with the I/O thread's own thread state) when that is
 * safe: the request is complete (no body wait) and no request is running
 * on the worker, so requests still run one at a time. Returns false when
 * the caller must use the pool instead. */
bool chd_server_run_inline(chd_server_t *s, chd_conn_t *conn);


/* Sets up the loop, the watchers and the worker pool; the server takes
 * over the listening sockets. Returns 0 or -errno. */
int chd_server_init(chd_server_t *s, const chd_config_t *cfg, const chd_listeners_t *listeners,
                    int control_fd, const chd_handler_t *handler);

/* Runs until drained. Then stops the pool (joining the workers). */
void chd_server_run(chd_server_t *s);

/* Starts draining (idempotent). I/O thread. */
void chd_server_drain(chd_server_t *s);

#endif
