/* chd_conn_watch: a connection between requests, watched on a libev loop;
 * the same in both execution modes.
 *
 * A driver (chd_conn_loop.c in threaded mode, chd_green_conns.c in green
 * mode) says where connections are watched (env->loop) and what runs a
 * request once its head is parsed (env->on_ready); everything else about a
 * waiting connection lives here once:
 *   - opening an accepted socket (chd_conn_open): the connection, its TLS
 *     state on a TLS address, its ev_io and its one ev_timer, the
 *     --header-timeout deadline, and the first read at once (the listening
 *     socket defers accepts until the client has sent data, so the request
 *     is usually there already);
 *   - reading and parsing on readiness, into one scratch buffer shared by
 *     the loop's connections (an idle connection owns no read buffer), and
 *     acting on the parse: close what failed, hand a ready request to
 *     env->on_ready, start the head's deadline when a head has begun;
 *   - the timer: --header-timeout while a head (or a PROXY header, or a TLS
 *     handshake) is arriving, --keepalive while idle, counted from the end
 *     of the last request (chd_conn_t.last_done, which a worker may set
 *     without the loop), CHD_DRAIN_GRACE once the process drains; while a
 *     request runs it only re-arms;
 *   - what the watcher waits for: input, except while a TLS step could not
 *     write all it had (its handshake flight did not fit the socket's send
 *     buffer: conn->tls_wants == POLLOUT); then room to write, so the
 *     handshake goes on as soon as the client takes bytes (waiting for
 *     input instead would stall it until --header-timeout: the client waits
 *     for the rest of the flight and sends nothing);
 *   - readiness while a request runs: the socket is the request's; the
 *     watcher disarms itself (state IN_APP -> IN_APP_DISARMED, one
 *     compare-and-swap) and the driver re-arms it when the request ends.
 * Everything here runs on the loop's thread (threaded mode: holding the
 * loop; green mode: the hub's thread) without the GIL. */
#ifndef CHD_CONN_WATCH_H
#define CHD_CONN_WATCH_H

#include "chd_conn.h"
#include "chd_listeners.h"

#include <stdbool.h>
#include <sys/socket.h>

#define CHD_DRAIN_GRACE 1.0 /* seconds idle connections may still send a request */

/* Serves an accepted non-blocking socket (taken over: closed on any
 * failure) on env->loop, as the listener it came from says: through TLS
 * with its context, its port the requests' SERVER_PORT (from NULL: plain,
 * the configured port). Reads what is already there, so env->on_ready may
 * be called before this returns, and the connection may be closed
 * already. */
void chd_conn_open(chd_conn_env_t *env, int fd, const struct sockaddr *peer,
                   const chd_listener_t *from);

/* Stops watching the connection and destroys it (chd_conn_destroy). */
void chd_conn_watch_close(chd_conn_t *conn);

/* (Re)starts the connection's timer to fire in `seconds`. */
void chd_conn_watch_timer(chd_conn_t *conn, double seconds);

/* How long a connection waiting for its next request may stay idle:
 * --keepalive, or CHD_DRAIN_GRACE while the process drains. */
double chd_conn_idle_limit(chd_conn_t *conn);

/* Parses what rbuf holds (a pipelined request, after the one before it
 * ended) and acts on it as on bytes just read. */
void chd_conn_watch_input(chd_conn_t *conn);

/* The process drains: an idle connection may still bring one request
 * within CHD_DRAIN_GRACE (answered with "Connection: close"), then it is
 * closed (closing at once would race with a request the client is
 * sending); a running one re-checks then; a half-received head keeps its
 * own deadline. */
void chd_conn_watch_drain(chd_conn_t *conn);

#endif
