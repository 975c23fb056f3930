/* ctl_status: the status document, one JSON object describing the
 * controller and its children (schema in README, "Status document").
 * A superset of the original Spawning's: pid, started_at, now, uptime,
 * active/killed/configured children counts, concurrent_requests, config,
 * children keyed by pid; plus generations, per-child state, requests,
 * connections, memory and heartbeat, totals and the last reload. The admin
 * socket's "status" and the status service's /status.json and /status all
 * render this one document. */
#ifndef CTL_STATUS_H
#define CTL_STATUS_H

#include <jansson.h>
#include <stdbool.h>

struct ctl_supervisor;

/* Builds the document (new reference). */
json_t *ctl_status_document(struct ctl_supervisor *sup);

/* True when at least one child of the serving generation is ready and no
 * stop has been asked for (ctl_shutdown.h). */
bool ctl_status_healthy(struct ctl_supervisor *sup);

#endif
