/* ctl_metrics: see ctl_metrics.h. */
#include "ctl_metrics.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* --- collecting ---------------------------------------------------------- */

static void collect_child(const ctl_child_t *c, ev_tstamp now, ctl_metrics_child_t *row,
                          cmn_stats_snapshot_t *snap)
{
    memset(snap, 0, sizeof *snap);
    if (c->stats)
        cmn_statspage_read(c->stats, snap);
    long long rss = ctl_children_rss(c->pid);
    double cpu = ctl_children_cpu_seconds(c->pid);
    *row = (ctl_metrics_child_t){.pid = (int)c->pid, .generation = c->generation,
                                 .state = ctl_children_state_name(c->state),
                                 .rss_bytes = rss > 0 ? (double)rss : 0,
                                 .cpu_seconds = cpu > 0 ? cpu : 0,
                                 .age_seconds = now - c->started_at,
                                 .requests = snap->requests_done};
}

int ctl_metrics_collect(const ctl_child_t *children, const cmn_stats_snapshot_t *retired,
                        const ctl_events_t *events, int threads, int desired, ev_tstamp now,
                        ctl_metrics_t *out)
{
    memset(out, 0, sizeof *out);
    int n = 0;
    for (const ctl_child_t *c = children; c; c = c->next)
        n++;
    out->children = calloc(n ? (size_t)n : 1, sizeof *out->children);
    if (!out->children)
        return -ENOMEM;
    out->totals = *retired;
    for (const ctl_child_t *c = children; c; c = c->next) {
        cmn_stats_snapshot_t snap;
        collect_child(c, now, &out->children[out->nchildren++], &snap);
        cmn_stats_snapshot_add(&out->totals, &snap);
        out->children_ready += c->state == CTL_CHILD_READY;
    }
    out->threads_configured = threads;
    out->children_desired = desired;
    out->events = *events;
    return 0;
}

void ctl_metrics_free(ctl_metrics_t *m)
{
    free(m->children);
    m->children = NULL;
    m->nchildren = 0;
}

/* --- percentiles ------------------------------------------------------------ */

double ctl_metrics_quantile(const uint64_t counts[CMN_STATS_BUCKETS], double q)
{
    uint64_t total = 0;
    for (int i = 0; i < CMN_STATS_BUCKETS; i++)
        total += counts[i];
    if (total == 0)
        return NAN;
    double rank = q * (double)total, below = 0;
    for (int i = 0; i < CMN_STATS_BUCKETS - 1; i++) {
        if (below + (double)counts[i] >= rank && counts[i] > 0) {
            double lower = i ? CMN_STATS_BOUNDS[i - 1] : 0, upper = CMN_STATS_BOUNDS[i];
            return lower + (upper - lower) * (rank - below) / (double)counts[i];
        }
        below += (double)counts[i];
    }
    return CMN_STATS_BOUNDS[CMN_STATS_BUCKETS - 2]; /* in +Inf: the largest bound we know */
}

/* --- names ------------------------------------------------------------------- */

ctl_reload_cause_t ctl_metrics_reload_cause(const char *reason)
{
    if (strncmp(reason, "SIG", 3) == 0)
        return CTL_RELOAD_SIGNAL;
    if (strncmp(reason, "spawnctl", 8) == 0)
        return CTL_RELOAD_SPAWNCTL;
    if (strncmp(reason, "source change", 13) == 0)
        return CTL_RELOAD_DEV;
    return CTL_RELOAD_OTHER;
}

const char *ctl_metrics_restart_name(ctl_restart_cause_t cause)
{
    static const char *const names[CTL_RESTART_CAUSES] = {
        "crash", "heartbeat", "timeout", "max-requests", "max-age", "max-memory"};
    return cause < CTL_RESTART_CAUSES ? names[cause] : "?";
}

const char *ctl_metrics_reload_name(ctl_reload_cause_t cause)
{
    static const char *const names[CTL_RELOAD_CAUSES] = {"signal", "spawnctl", "dev", "other"};
    return cause < CTL_RELOAD_CAUSES ? names[cause] : "?";
}

/* --- the exposition text ---------------------------------------------------- */

static void family(cmn_buf_t *out, const char *name, const char *type, const char *help)
{
    cmn_buf_appendf(out, "# HELP spawning_%s %s\n# TYPE spawning_%s %s\n", name, help, name,
                    type);
}

/* A label value, escaped as the format says: backslash, quote, newline. */
static void label_value(cmn_buf_t *out, const char *v)
{
    cmn_buf_append(out, "\"", 1);
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            cmn_buf_appendf(out, "\\%c", *v);
        else if (*v == '\n')
            cmn_buf_append(out, "\\n", 2);
        else
            cmn_buf_append(out, v, 1);
    }
    cmn_buf_append(out, "\"", 1);
}

/* `name{label="value"} ` (no braces without a label), then the value. */
static void sample_start(cmn_buf_t *out, const char *name, const char *label, const char *value)
{
    cmn_buf_appendf(out, "spawning_%s", name);
    if (label) {
        cmn_buf_appendf(out, "{%s=", label);
        label_value(out, value);
        cmn_buf_append(out, "}", 1);
    }
    cmn_buf_append(out, " ", 1);
}

static void sample_u64(cmn_buf_t *out, const char *name, const char *label, const char *value,
                       uint64_t n)
{
    sample_start(out, name, label, value);
    cmn_buf_appendf(out, "%llu\n", (unsigned long long)n);
}

/* A gauge read from live pages, never shown below zero (the numbers are
 * the children's own, read one at a time). */
static uint64_t gauge(int64_t v) { return v > 0 ? (uint64_t)v : 0; }

static void render_histogram(cmn_buf_t *out, const char *name, const char *help,
                             const uint64_t *counts, uint64_t sum_us)
{
    family(out, name, "histogram", help);
    uint64_t cumulative = 0;
    char bucket_name[96], le[32];
    snprintf(bucket_name, sizeof bucket_name, "%s_bucket", name);
    for (int i = 0; i < CMN_STATS_BUCKETS; i++) {
        cumulative += counts[i];
        if (i < CMN_STATS_BUCKETS - 1)
            snprintf(le, sizeof le, "%g", CMN_STATS_BOUNDS[i]);
        else
            snprintf(le, sizeof le, "+Inf");
        sample_u64(out, bucket_name, "le", le, cumulative);
    }
    cmn_buf_appendf(out, "spawning_%s_sum %.6f\nspawning_%s_count %llu\n", name,
                    (double)sum_us / 1e6, name, (unsigned long long)cumulative);
}

static void render_requests(cmn_buf_t *out, const cmn_stats_snapshot_t *t)
{
    family(out, "requests_total", "counter", "Requests that ran the application, by method.");
    for (int i = 0; i < CMN_METHOD_CLASSES; i++)
        sample_u64(out, "requests_total", "method", cmn_stats_method_name(i), t->by_method[i]);
    family(out, "responses_total", "counter",
           "Responses by status class, the server's own answers (400, 408, ...) included.");
    for (int i = 0; i < CMN_STATUS_CLASSES; i++)
        sample_u64(out, "responses_total", "status", cmn_stats_status_name(i), t->by_status[i]);
    family(out, "received_bytes_total", "counter", "Bytes read from clients.");
    sample_u64(out, "received_bytes_total", NULL, NULL, t->bytes_received);
    family(out, "sent_bytes_total", "counter", "Response bytes written, heads included.");
    sample_u64(out, "sent_bytes_total", NULL, NULL, t->bytes_sent);
    family(out, "connections_closed_total", "counter",
           "Client connections closed, by the reason the child recorded (once per connection).");
    for (int i = 0; i < CMN_CLOSE_REASONS; i++)
        sample_u64(out, "connections_closed_total", "reason", cmn_stats_close_reason_name(i),
                   t->closed[i]);
    render_histogram(out, "request_duration_seconds",
                     "Time from a request being parsed to its response being sent.", t->duration,
                     t->duration_sum_us);
    render_histogram(out, "request_queue_seconds",
                     "Time from a request being parsed to the application being called.",
                     t->queue, t->queue_sum_us);
}

static void render_saturation(cmn_buf_t *out, const ctl_metrics_t *m)
{
    const cmn_stats_snapshot_t *t = &m->totals;
    family(out, "requests_in_flight", "gauge", "Requests parsed and not yet answered.");
    sample_u64(out, "requests_in_flight", NULL, NULL, gauge(t->in_flight));
    family(out, "threads_busy", "gauge", "Worker threads running the application now.");
    sample_u64(out, "threads_busy", NULL, NULL, gauge(t->threads_busy));
    family(out, "threads_configured", "gauge",
           "Worker threads of the ready children (--threads each; 0 in green mode).");
    sample_u64(out, "threads_configured", NULL, NULL,
               (uint64_t)m->threads_configured * (uint64_t)m->children_ready);
    family(out, "connections_open", "gauge", "Client connections open now.");
    sample_u64(out, "connections_open", NULL, NULL, gauge(t->connections));
    family(out, "connections_idle", "gauge",
           "Open connections without a request running (keep-alive, or a head on its way).");
    sample_u64(out, "connections_idle", NULL, NULL, gauge(t->connections - t->in_flight));
    family(out, "children_ready", "gauge", "Children ready and serving.");
    sample_u64(out, "children_ready", NULL, NULL, (uint64_t)m->children_ready);
    family(out, "children_desired", "gauge", "Children wanted (--processes, scaling).");
    sample_u64(out, "children_desired", NULL, NULL, (uint64_t)m->children_desired);
}

/* name{pid="...",generation="..."} value */
static void child_sample(cmn_buf_t *out, const char *name, const ctl_metrics_child_t *c,
                         double value)
{
    cmn_buf_appendf(out, "spawning_%s{pid=\"%d\",generation=\"%d\"} %.9g\n", name, c->pid,
                    c->generation, value);
}

static void render_children(cmn_buf_t *out, const ctl_metrics_t *m)
{
    static const struct {
        const char *name, *type, *help;
    } f[] = {
        {"child_resident_memory_bytes", "gauge", "Resident memory of a child."},
        {"child_cpu_seconds_total", "counter", "CPU time (user + system) a child used."},
        {"child_age_seconds", "gauge", "Seconds since a child was started."},
        {"child_requests_total", "counter", "Requests a child ran through the application."},
    };
    for (size_t k = 0; k < sizeof f / sizeof f[0]; k++) {
        family(out, f[k].name, f[k].type, f[k].help);
        for (int i = 0; i < m->nchildren; i++) {
            const ctl_metrics_child_t *c = &m->children[i];
            double v[] = {c->rss_bytes, c->cpu_seconds, c->age_seconds, (double)c->requests};
            child_sample(out, f[k].name, c, v[k]);
        }
    }
}

static void render_events(cmn_buf_t *out, const ctl_events_t *e)
{
    family(out, "reloads_total", "counter", "Graceful reloads of the whole server, by cause and result.");
    for (int i = 0; i < CTL_RELOAD_CAUSES; i++) {
        for (int ok = 1; ok >= 0; ok--) {
            cmn_buf_append_str(out, "spawning_reloads_total{cause=");
            label_value(out, ctl_metrics_reload_name(i));
            cmn_buf_appendf(out, ",result=\"%s\"} %llu\n", ok ? "ok" : "failed",
                            (unsigned long long)(ok ? e->reloads_ok[i] : e->reloads_failed[i]));
        }
    }
    family(out, "child_restarts_total", "counter", "Children restarted or replaced, by cause.");
    for (int i = 0; i < CTL_RESTART_CAUSES; i++)
        sample_u64(out, "child_restarts_total", "cause", ctl_metrics_restart_name(i),
                   e->restarts[i]);
}

void ctl_metrics_render(const ctl_metrics_t *m, cmn_buf_t *out)
{
    render_requests(out, &m->totals);
    render_saturation(out, m);
    render_children(out, m);
    render_events(out, &m->events);
}
