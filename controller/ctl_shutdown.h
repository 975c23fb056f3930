/* ctl_shutdown: the graceful stop as a load balancer sees it.
 *
 * A graceful stop (SIGTERM, `spawnctl stop`) is announced first: from that
 * moment /healthz answers 503, so a balancer that checks it stops sending
 * new requests. With --shutdown-delay SECONDS the children keep serving
 * for that long (like a Kubernetes preStop sleep) before the listening
 * sockets close and the children drain (ctl_supervisor_stop); with 0 (the
 * default) the stop begins at once. An immediate stop (INT, QUIT,
 * `spawnctl stop --now`) during the delay cuts it short. Runs on the
 * controller's loop. */
#ifndef CTL_SHUTDOWN_H
#define CTL_SHUTDOWN_H

#include <stdbool.h>

struct ctl_supervisor;

/* Announces the graceful stop (`why` is logged) and begins it after
 * --shutdown-delay. A second call while one is pending does nothing. */
void ctl_shutdown_graceful(struct ctl_supervisor *sup, const char *why);

/* Cancels a pending delayed stop (an immediate stop takes over). */
void ctl_shutdown_cancel(struct ctl_supervisor *sup);

/* True from the moment a stop was asked for (graceful or not). */
bool ctl_shutdown_announced(const struct ctl_supervisor *sup);

#endif
