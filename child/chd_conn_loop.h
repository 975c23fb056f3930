/* chd_conn_loop: a request's life in threaded mode, from its first byte to
 * its end, on the event loop, the main thread and the worker pool.
 *
 * Between requests a connection is watched on the loop as in green mode
 * (chd_conn_watch.h: its ev_io and one ev_timer, heads read and parsed
 * without the GIL, malformed or late requests failed there and closed);
 * this driver runs what becomes ready (env->on_ready). The loop has one
 * thread at a time, holding loop_lock: normally the main thread
 * (chd_conn_loop_run). A ready request runs one of two ways:
 *   - inline, on the main thread itself, after the loop iteration that made
 *     it ready: when it is complete (no body wait) and a slot of the pool is
 *     free (chd_pool_claim_outside: --threads N counts it). This saves the
 *     hand-over to a worker (a wake-up, a GIL switch) and is what a
 *     hello-world load mostly takes. The main thread lets go of the loop
 *     while the request runs; a standby thread checks every
 *     CHD_STANDBY_TICK_NS and, when a request is still running at its next
 *     tick, takes the loop (handing what waited for the main thread to the
 *     pool) until that request ends. So a slow request never holds up other
 *     connections, heartbeats, signals or the drain for more than a tick or
 *     two; then the main thread takes the loop back;
 *   - on the worker pool (chd_pool.h) otherwise.
 * Completion comes back to the loop one way: the main thread ends its own
 * requests once it holds the loop again; a pooled one comes through the
 * pool's done queue (on_job_done), except when a worker can end a plain
 * keep-alive request itself (nothing pipelined, no close, not draining):
 * then it hands the connection straight back to the armed watcher without
 * waking the loop (finish_in_worker in chd_conn_loop.c; the state change is
 * one compare-and-swap, so the loop and the worker never both end the same
 * request). Everything here runs holding the loop unless it says otherwise;
 * Python is reached only through `handler`. */
#ifndef CHD_CONN_LOOP_H
#define CHD_CONN_LOOP_H

#include "chd_conn.h"
#include "chd_conn_watch.h"
#include "chd_control.h"
#include "chd_pool.h"

#include <ev.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>

#define CHD_STANDBY_TICK_NS 1000000L /* 1 ms: an inline request running longer loses the loop */
#define CHD_STANDBY_PARK_TICKS 100   /* ticks without inline requests before the standby sleeps */

/* What runs a request: `handle` on a worker thread without the GIL,
 * `thread_start`/`thread_stop` once per worker thread; `handle_inline`
 * on the main thread, with its Python thread state (the GIL not held). */
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
    chd_control_t *control;   /* counts finished requests */
    chd_handler_t handler;
    chd_pool_t pool;
    void *inline_tstate;      /* the main thread's Python thread state */
    pthread_mutex_t loop_lock; /* held by the thread running the loop */
    chd_conn_t *inline_head, *inline_tail; /* for the main thread next (under loop_lock) */
    atomic_bool inline_active; /* the main thread runs a request, the loop let go */
    atomic_uint inline_runs;  /* requests the main thread began (the standby's clock) */
    atomic_bool ended;        /* chd_conn_loop_end was called */
    ev_async handback;        /* wakes the standby's loop: the main thread wants it back */
    pthread_t standby;
    bool standby_started;
    atomic_bool standby_parked, standby_stopping;
    pthread_mutex_t park_lock;
    pthread_cond_t park_cond;
    /* The owner's hook: a request ended or a connection closed (the end of
     * a drain?). */
    void (*on_quiet)(void *owner);
    void *owner;
} chd_conn_loop_t;

/* Sets up the request machinery on `loop`: the env's hooks (owner,
 * on_close, loop, on_ready), the worker pool (cfg->threads threads) and the
 * standby thread. Returns 0 or -errno. */
int chd_conn_loop_init(chd_conn_loop_t *cl, struct ev_loop *loop, chd_conn_env_t *env,
                       chd_control_t *control, const chd_handler_t *handler);

/* Main thread: runs the loop, and the requests it makes ready, until
 * chd_conn_loop_end. */
void chd_conn_loop_run(chd_conn_loop_t *cl);

/* From a loop callback: chd_conn_loop_run returns after this iteration. */
void chd_conn_loop_end(chd_conn_loop_t *cl);

/* After chd_conn_loop_run returned: joins the standby and the workers. */
void chd_conn_loop_stop(chd_conn_loop_t *cl);

/* True while the main thread runs a request and no slot of the pool is
 * free: a new connection would only wait (a hint, read without a lock). */
bool chd_conn_loop_saturated(chd_conn_loop_t *cl);

/* Requests started and not yet completed (pooled or on the main thread);
 * exact when zero. */
int chd_conn_loop_busy(chd_conn_loop_t *cl);

/* Starts serving an accepted socket (chd_conn_open), as its listener
 * `from` says (TLS, port). */
void chd_conn_loop_open(chd_conn_loop_t *cl, int fd, const struct sockaddr *peer,
                        const chd_listener_t *from);

/* The child drains: chd_conn_watch_drain. */
void chd_conn_loop_drain(chd_conn_t *conn);

#endif
