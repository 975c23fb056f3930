/* chd_conn_loop: a request's life in threaded mode, from its first byte to
 * its end, on the libev I/O thread and the worker pool.
 *
 * Each connection is watched with an ev_io and one ev_timer
 * (--header-timeout while a head is arriving, --keepalive while idle);
 * heads are read and parsed on the I/O thread without the GIL; malformed
 * or late requests fail here (chd_conn_fail answers them) and close. A
 * ready request is dispatched one of two ways:
 *   - inline, on the I/O thread itself (the --threads 1 fast path, when the
 *     request is complete and no other runs), with the heartbeat thread
 *     answering the controller if it runs long (chd_heartbeat.h); or
 *   - to the worker pool (chd_pool.h).
 * Completion comes back to the I/O thread one way: the pool's done queue
 * (chd_conn_loop_t's on_job_done), except when a worker can end a plain
 * keep-alive request itself (nothing pipelined, no close, not draining):
 * then it hands the connection straight back to the armed watcher without
 * waking the I/O thread (finish_in_worker in chd_conn_loop.c; the state
 * change is one compare-and-swap, so the I/O thread and the worker never
 * both end the same request). Everything here runs on the I/O thread
 * unless it says otherwise; Python is reached only through `handler`. */
#ifndef CHD_CONN_LOOP_H
#define CHD_CONN_LOOP_H

#include "chd_conn.h"
#include "chd_control.h"
#include "chd_heartbeat.h"
#include "chd_pool.h"

#include <ev.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>

#define CHD_DRAIN_GRACE 1.0 /* seconds idle connections may still send a request */

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

typedef struct chd_conn_loop {
    struct ev_loop *loop;
    chd_conn_env_t *env;      /* env->owner is this struct */
    chd_control_t *control;   /* counts finished requests; read during long inline ones */
    chd_handler_t handler;
    chd_pool_t pool;
    chd_heartbeat_t heartbeat; /* with handle_inline only */
    void *inline_tstate;      /* the I/O thread's Python thread state, for the fast path */
    atomic_bool stop_after_inline; /* "stop" came while the I/O thread ran a request */
    ev_async wake;            /* lets the heartbeat thread pass that "stop" on */
    /* The owner's hooks (I/O thread): a "stop" arrived during an inline
     * request; a request ended or a connection closed (the end of a drain?). */
    void (*on_stop)(void *owner);
    void (*on_quiet)(void *owner);
    /* Heartbeat thread, during an inline request: the controller is gone
     * (the listening sockets must be let go at once: chd_orphan.h). */
    void (*on_orphaned)(void *owner);
    void *owner;
} chd_conn_loop_t;

/* Sets up the request machinery on `loop`: the env's hooks, the worker
 * pool (cfg->threads threads), and with handle_inline the heartbeat thread
 * on control_fd. Returns 0 or -errno. */
int chd_conn_loop_init(chd_conn_loop_t *cl, struct ev_loop *loop, chd_conn_env_t *env,
                       chd_control_t *control, int control_fd, const chd_handler_t *handler);

/* After the event loop ended: joins the workers and the heartbeat thread. */
void chd_conn_loop_stop(chd_conn_loop_t *cl);

/* Requests handed to the pool and not yet completed. */
int chd_conn_loop_busy(chd_conn_loop_t *cl);

/* Starts serving an accepted socket. */
void chd_conn_loop_open(chd_conn_loop_t *cl, int fd, const struct sockaddr *peer);

/* The child drains: an idle connection may still bring one request within
 * CHD_DRAIN_GRACE (answered with "Connection: close"), then it is closed.
 * Closing at once would race with a request the client is sending. */
void chd_conn_loop_drain(chd_conn_t *conn);

#endif
