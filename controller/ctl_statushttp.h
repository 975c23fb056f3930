/* ctl_statushttp: the status service on --status-port.
 *
 *   GET /status       an HTML page for people (auto-refreshing, no external assets)
 *   GET /status.json  the status document (ctl_status.h)
 *   GET /healthz      200 when a child of the serving generation is ready, else
 *                     503 (also from the moment a stop is asked for)
 *   anything else     404 (405 for methods other than GET and HEAD)
 * One request per connection, answered from the controller's loop without
 * blocking it (ctl_miniserver). */
#ifndef CTL_STATUSHTTP_H
#define CTL_STATUSHTTP_H

#include <stddef.h>

struct ctl_supervisor;

/* Binds host:port and starts serving. Returns 0 or a negative errno with a
 * sentence in err. */
int ctl_statushttp_start(struct ctl_supervisor *sup, const char *host, int port, char *err,
                         size_t errlen);

void ctl_statushttp_stop(struct ctl_supervisor *sup);

#endif
