/* chd_green_conns: green mode's connections between requests, in C.
 *
 * A connection without a running request has no greenlet and no Python
 * object: it is its chd_conn_t (request buffers given back while idle),
 * watched by its own ev_io and ev_timer on the gevent hub's libev loop
 * (gevent's loop is the system libev's, so plain libev watchers live on it
 * next to gevent's own), as chd_conn_watch.h says, the same as in threaded
 * mode. Their callbacks run inside the hub's ev_run, where gevent has
 * released the GIL; reading and parsing need no Python, so none is taken
 * here. A request that is ready goes to a FIFO of ready connections
 * (conn->job is its link) that the driver (chd_green.c) empties with worker
 * greenlets; after the response the worker calls chd_green_conns_finish and
 * the connection is parked again.
 *
 * Timeouts cost no re-arming per request: the one timer of a connection
 * is set when it opens (--header-timeout) and when a head begins; while it
 * is idle it fires at worst once per --keepalive and re-arms itself for
 * what is left (counted from the end of the last request). Everything here
 * runs in the hub's OS thread: the hub, or a worker greenlet. */
#ifndef CHD_GREEN_CONNS_H
#define CHD_GREEN_CONNS_H

#include "chd_conn.h"
#include "chd_conn_watch.h"

#include <ev.h>
#include <stdbool.h>
#include <sys/socket.h>

typedef struct {
    struct ev_loop *loop; /* the gevent hub's */
    chd_conn_env_t *env;  /* env->owner is this struct */
    chd_job_t *ready_head, *ready_tail; /* connections with a request ready to run */
} chd_green_conns_t;

/* Serves the connections of `env` on `loop`; sets env's owner, loop and
 * on_ready. */
void chd_green_conns_init(chd_green_conns_t *gc, struct ev_loop *loop, chd_conn_env_t *env);

/* Takes an accepted non-blocking socket (chd_conn_open): watches it and
 * reads what is already there, as its listener `from` says (TLS, port). */
void chd_green_conns_open(chd_green_conns_t *gc, int fd, const struct sockaddr *peer,
                          const chd_listener_t *from);

/* The next connection whose request is ready (begun: IN_APP), or NULL. */
chd_conn_t *chd_green_conns_next_ready(chd_green_conns_t *gc);

static inline bool chd_green_conns_have_ready(const chd_green_conns_t *gc)
{
    return gc->ready_head != NULL;
}

/* After a request's response (a worker greenlet): closes the connection or
 * parks it again; a pipelined request already received joins the ready
 * FIFO. */
void chd_green_conns_finish(chd_conn_t *conn);

/* The process drains: chd_conn_watch_drain for every connection. */
void chd_green_conns_drain(chd_green_conns_t *gc);

#endif
