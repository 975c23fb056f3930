/* ctl_miniserver: the small request/reply servers inside the controller
 * (the admin socket, the status HTTP service).
 *
 * Accepts on a listening socket with libev, reads each client's request up
 * to a delimiter ("\n" for JSON lines, "\r\n\r\n" for an HTTP head), hands
 * it to `handle`, writes the reply without blocking and then either reads
 * the next request or closes. Requests are bounded in size and time, so a
 * stuck or hostile client costs a few KiB and never blocks the controller. */
#ifndef CTL_MINISERVER_H
#define CTL_MINISERVER_H

#include "cmn_buf.h"

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>

#define CTL_MINI_MAX_REQUEST (16 * 1024)
#define CTL_MINI_TIMEOUT 10.0 /* seconds a client may take per request */

typedef struct ctl_miniserver ctl_miniserver_t;

/* Called per request (the bytes before the delimiter, NUL-terminated).
 * Appends the reply to `reply`; returns true to keep the connection for
 * another request, false to close after the reply. `peer_fd` is the
 * client's socket (for SO_PEERCRED). */
typedef bool (*ctl_mini_handler_t)(void *arg, int peer_fd, const char *request, size_t len,
                                   cmn_buf_t *reply);

/* Starts serving listen_fd (non-blocking; the server takes ownership). */
ctl_miniserver_t *ctl_miniserver_start(struct ev_loop *loop, int listen_fd, const char *delimiter,
                                       ctl_mini_handler_t handle, void *arg);

/* Closes the listening socket and every client. */
void ctl_miniserver_stop(ctl_miniserver_t *m);

#endif
