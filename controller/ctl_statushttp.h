/* ctl_statushttp: the status service on --status-port.
 *
 *   GET /status       an HTML page for people (auto-refreshing, no external assets)
 *   GET /status.json  the status document (ctl_status.h)
 *   GET /healthz      200 when a child of the serving generation is ready, 503
 *                     ("no ready child") when none is, and 503 ("stopping")
 *                     from the moment a stop is asked for (--shutdown-delay)
 *   anything else     404 (405 for methods other than GET and HEAD)
 * One request per connection, answered from the controller's loop without
 * blocking it (ctl_miniserver). */
#ifndef CTL_STATUSHTTP_H
#define CTL_STATUSHTTP_H

#include "ctl_ops.h"
#include "ctl_servicesocks.h"

#include <ev.h>
#include <stddef.h>

typedef struct ctl_statushttp ctl_statushttp_t;

/* Serves on socks' status port (bound at start, ctl_servicesocks.h; taken
 * over: socks->status_fd becomes -1) in `loop`, asking the supervisor
 * through `ops` (copied). Returns the service, or NULL with a sentence in
 * err (the socket left to socks). */
ctl_statushttp_t *ctl_statushttp_start(struct ev_loop *loop, ctl_servicesocks_t *socks,
                                       const ctl_ops_t *ops, char *err, size_t errlen);

/* Closes the socket and frees the service (NULL: nothing). */
void ctl_statushttp_stop(ctl_statushttp_t *service);

#endif
