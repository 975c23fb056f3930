/* chd_conn_loop: connections on the libev I/O thread (threaded mode).
 *
 * Watches a connection for its next request with an ev_io and one ev_timer
 * (--header-timeout while a head is arriving, --keepalive while idle),
 * parses on the I/O thread without the GIL, answers malformed or late
 * requests itself, and hands ready requests to the worker pool. All
 * functions run on the I/O thread. */
#ifndef CHD_CONN_LOOP_H
#define CHD_CONN_LOOP_H

#include "chd_conn.h"

#include <stdbool.h>
#include <sys/socket.h>

struct chd_server;

/* Starts serving an accepted socket. */
void chd_conn_loop_open(struct chd_server *server, int fd, const struct sockaddr *peer);

/* Worker thread, right after the request: when the connection simply stays
 * open (no close, nothing pipelined, not draining, the I/O thread still
 * watching the socket) it is handed back to the I/O thread's watcher
 * directly and true is returned; otherwise false and the I/O thread must
 * call chd_conn_loop_request_done. Saves waking the I/O thread per request. */
bool chd_conn_loop_finish_in_worker(chd_conn_t *conn);

/* The pool finished the connection's request: next request, or close. */
void chd_conn_loop_request_done(chd_conn_t *conn);

/* The child drains: an idle connection may still bring one request within
 * CHD_DRAIN_GRACE (answered with "Connection: close"), then it is closed.
 * Closing at once would race with a request the client is sending. */
void chd_conn_loop_drain(chd_conn_t *conn);

#endif
