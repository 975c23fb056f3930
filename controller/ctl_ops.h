/* ctl_ops: what the controller's services may ask of the supervisor.
 *
 * The admin socket (ctl_admin.c) and the status service
 * (ctl_statushttp.c) see the supervisor only through this table, filled
 * by ctl_supervisor.c: they never read or change its state. Every call runs
 * on the controller's one thread, from the services' libev callbacks. */
#ifndef CTL_OPS_H
#define CTL_OPS_H

#include "cmn_buf.h"

#include <jansson.h>
#include <stdbool.h>

typedef struct {
    void *ctx; /* passed to every operation */
    /* The status document (README, "Status document"): a new reference. */
    json_t *(*status)(void *ctx);
    /* Appends /metrics' text (ctl_metrics.h) to out. */
    void (*metrics)(void *ctx, cmn_buf_t *out);
    /* /readyz's detail: {"ready", "stopping", "generation", "children_ready",
     * "children_desired"} (a new reference). */
    json_t *(*readiness)(void *ctx);
    /* True while a child of the serving generation is ready and no stop or
     * drain of the whole server has begun (what /healthz answers). */
    bool (*healthy)(void *ctx);
    /* True from the moment a stop was asked for (graceful or not). */
    bool (*stopping)(void *ctx);
    /* Graceful reload, as SIGHUP; `reason` is logged and kept in status. */
    void (*reload)(void *ctx, const char *reason);
    /* The number of children wanted now, and setting it (1..1024). */
    int (*processes)(void *ctx);
    void (*scale)(void *ctx, int processes);
    /* Graceful stop (as SIGTERM), or immediate (as SIGQUIT) when `now`. */
    void (*stop)(void *ctx, bool now);
    /* Reopens the log files here and in the children (as SIGUSR1). */
    void (*reopen_logs)(void *ctx);
} ctl_ops_t;

#endif
