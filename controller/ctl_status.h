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

#include "ctl_children.h"
#include "ctl_history.h"
#include "ctl_listeners.h"
#include "ctl_metrics.h"
#include "ctl_options.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* What the document is made of: the supervisor's state, lent read-only
 * for the moment the document is built. */
typedef struct {
    const ctl_config_t *cfg;
    const ctl_listeners_t *listeners;
    const ctl_child_t *children;
    double started_at;
    int listen_port;
    int generation, pending_generation; /* pending: 0 when no reload is starting */
    int desired;                        /* children wanted */
    int killed_children;                /* died or were killed without being asked */
    uint64_t total_requests;            /* gone children included */
    const cmn_stats_snapshot_t *retired; /* the gone children's counters */
    const ctl_events_t *events;         /* reloads and restarts by cause */
    double requests_per_second;         /* over the last minute */
    const ctl_history_t *history;       /* the rate's trend; NULL: none */
    int reloads;
    const char *last_reload_reason, *last_reload_error; /* NULL when none */
    bool stopping;                      /* a graceful or immediate stop has begun */
} ctl_status_facts_t;

/* Builds the document (new reference). */
json_t *ctl_status_document(const ctl_status_facts_t *facts);

/* /readyz's detail: "ready" (what /healthz answers), "stopping",
 * "generation", "pending_generation", "children_ready" (of the serving
 * generation), "children_desired" (a new reference). */
json_t *ctl_status_readiness(const ctl_status_facts_t *facts);

/* True when at least one child of the serving generation is ready and no
 * stop has begun (what /healthz answers). */
bool ctl_status_healthy(const ctl_status_facts_t *facts);

#endif
