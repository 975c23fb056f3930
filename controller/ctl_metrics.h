/* ctl_metrics: the numbers of the whole server, and /metrics.
 *
 * Collects (ctl_metrics_collect) the children's live counters from their
 * pages (cmn_statspage.h), adds those of children that are gone (the
 * supervisor keeps them, so counters never go backwards), and reads each
 * child's memory, CPU time and age from /proc. Renders the result
 * (ctl_metrics_render) in the Prometheus text exposition format 0.0.4:
 * "# HELP" and "# TYPE" per family, counters named *_total, histograms as
 * _bucket{le="..."} (cumulative) / _sum / _count, label values quoted and
 * escaped, every name prefixed "spawning_". The status document
 * (ctl_status.c) shows the same numbers, with latency percentiles estimated
 * from the histograms (ctl_metrics_quantile).
 *
 * It also names the controller's own events that the supervisor counts:
 * reloads by cause and result, child restarts by cause.
 * Controller thread only; nothing here trusts a page for more than
 * numbers (see cmn_statspage.h). */
#ifndef CTL_METRICS_H
#define CTL_METRICS_H

#include "cmn_buf.h"
#include "cmn_statspage.h"
#include "ctl_children.h"

#include <stdint.h>

/* Why a child was restarted or replaced (label "cause"). */
typedef enum {
    CTL_RESTART_CRASH,        /* it died without being asked to */
    CTL_RESTART_HEARTBEAT,    /* killed: no heartbeat for --deadman-timeout */
    CTL_RESTART_TIMEOUT,      /* a request ran past --timeout */
    CTL_RESTART_MAX_REQUESTS,
    CTL_RESTART_MAX_AGE,
    CTL_RESTART_MAX_MEMORY,
    CTL_RESTART_CAUSES
} ctl_restart_cause_t;

/* What asked for a reload (label "cause"). */
typedef enum {
    CTL_RELOAD_SIGNAL,   /* SIGHUP */
    CTL_RELOAD_SPAWNCTL, /* spawnctl reload */
    CTL_RELOAD_DEV,      /* a source change under --reload=dev */
    CTL_RELOAD_OTHER,
    CTL_RELOAD_CAUSES
} ctl_reload_cause_t;

/* The controller's event counters, kept by the supervisor. */
typedef struct {
    uint64_t restarts[CTL_RESTART_CAUSES];
    uint64_t reloads_ok[CTL_RELOAD_CAUSES], reloads_failed[CTL_RELOAD_CAUSES];
} ctl_events_t;

/* One live child, as /metrics labels it by pid. */
typedef struct {
    int pid, generation;
    const char *state;           /* "starting", "ready", "draining" */
    double rss_bytes;            /* 0 when /proc could not say */
    double cpu_seconds;          /* user + system */
    double age_seconds;
    uint64_t requests;
} ctl_metrics_child_t;

typedef struct {
    cmn_stats_snapshot_t totals; /* counters: every child ever; gauges: the live ones */
    int threads_configured;      /* per child (--threads; 0: green mode) */
    int children_ready, children_desired;
    ctl_metrics_child_t *children; /* owned; ctl_metrics_free */
    int nchildren;
    ctl_events_t events;
} ctl_metrics_t;

/* Fills `out` from the live children (their pages and /proc at `now`), the
 * numbers of the gone ones (`retired`) and the supervisor's events.
 * Returns 0 or -ENOMEM. */
int ctl_metrics_collect(const ctl_child_t *children, const cmn_stats_snapshot_t *retired,
                        const ctl_events_t *events, int threads, int desired, ev_tstamp now,
                        ctl_metrics_t *out);

void ctl_metrics_free(ctl_metrics_t *m);

/* Appends the exposition text (when memory runs out, the text is cut
 * short: cmn_buf's appends fail silently). */
void ctl_metrics_render(const ctl_metrics_t *m, cmn_buf_t *out);

/* The q-quantile (0..1) of a histogram (per-bucket counts), interpolated
 * linearly inside its bucket as Prometheus' histogram_quantile does;
 * observations in +Inf count as the last finite bound. NAN when empty. */
double ctl_metrics_quantile(const uint64_t counts[CMN_STATS_BUCKETS], double q);

/* The cause of a reload from the reason the supervisor was given
 * ("SIGHUP", "spawnctl reload", "source change: PATH"). */
ctl_reload_cause_t ctl_metrics_reload_cause(const char *reason);

/* Label names: "crash", "max-age", ...; "signal", "spawnctl", "dev", "other". */
const char *ctl_metrics_restart_name(ctl_restart_cause_t cause);
const char *ctl_metrics_reload_name(ctl_reload_cause_t cause);

/* The Prometheus content type of ctl_metrics_render's text. */
#define CTL_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
