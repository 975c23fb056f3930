/* ctl_status: see ctl_status.h. */
#include "ctl_status.h"

#include "cmn_version.h"
#include "ctl_listen.h"

#include <math.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

/* Converts a libev timestamp to wall-clock time: ev_now() is already
 * wall-clock based (ev_time), so this is the identity, kept as a name. */
static double wall(ev_tstamp t) { return t; }

static json_t *config_json(const ctl_config_t *cfg, int port)
{
    return json_pack("{s:s, s:i, s:i, s:i, s:s, s:I, s:f, s:I, s:f, s:f, s:f, s:s}", "host", cfg->host,
                     "port", port, "processes", cfg->processes, "threads", cfg->threads, "app",
                     cfg->app, "max_memory", (json_int_t)cfg->max_memory, "max_age", cfg->max_age,
                     "max_requests", (json_int_t)cfg->max_requests, "timeout", cfg->timeout,
                     "deadman_timeout", cfg->deadman_timeout, "graceful_timeout",
                     cfg->graceful_timeout, "reload",
                     cfg->reload_dev ? "dev" : "off");
}

/* A child's entry: its record, its row of ctl_metrics (memory, CPU) and
 * its live counters. */
static json_t *child_json(const ctl_child_t *c, const ctl_metrics_child_t *row, ev_tstamp now)
{
    cmn_stats_snapshot_t n = {0};
    if (c->stats)
        cmn_statspage_read(c->stats, &n);
    json_t *j = json_pack("{s:i, s:b, s:f, s:f, s:I, s:i, s:s, s:I, s:I, s:f, s:f, s:I, s:I}",
                          "pid", (int)c->pid, "active", c->state == CTL_CHILD_READY, "uptime",
                          now - c->started_at, "forked_at", wall(c->started_at),
                          "concurrent_requests", (json_int_t)n.in_flight, "generation",
                          c->generation, "state", ctl_children_state_name(c->state), "requests",
                          (json_int_t)n.requests_done, "active_connections",
                          (json_int_t)n.connections, "last_heartbeat", wall(c->last_pong),
                          "cpu_seconds", row->cpu_seconds, "responses_5xx",
                          (json_int_t)n.responses_5xx, "bytes_sent", (json_int_t)n.bytes_sent);
    json_object_set_new(j, "rss_bytes", json_integer((json_int_t)row->rss_bytes));
    json_object_set_new(j, "bytes_received", json_integer((json_int_t)n.bytes_received));
    json_object_set_new(j, "threads_busy", json_integer((json_int_t)n.threads_busy));
    json_object_set_new(j, "memory_trend", ctl_trend_json(&c->memory_trend));
    return j;
}

/* {"signal": {"ok": N, "failed": N}, ...} */
static json_t *reloads_by_cause(const ctl_events_t *e)
{
    json_t *by = json_object();
    for (int i = 0; i < CTL_RELOAD_CAUSES; i++)
        json_object_set_new(by, ctl_metrics_reload_name(i),
                            json_pack("{s:I, s:I}", "ok", (json_int_t)e->reloads_ok[i], "failed",
                                      (json_int_t)e->reloads_failed[i]));
    return by;
}

static json_t *reloads_json(const ctl_status_facts_t *f)
{
    json_t *r = json_pack("{s:i, s:s?, s:s?}", "count", f->reloads, "last_reason",
                          f->reloads ? f->last_reload_reason : NULL, "last_error",
                          f->last_reload_error);
    json_object_set_new(r, "by_cause", reloads_by_cause(f->events));
    return r;
}

/* A quantile in seconds, or null before the first observation. */
static json_t *quantile_json(const uint64_t *counts, double q)
{
    double v = ctl_metrics_quantile(counts, q);
    return isnan(v) ? json_null() : json_real(v);
}

/* {"p50": s, "p90": s, "p99": s, "count": N, "mean": s} estimated from a
 * histogram (each percentile falls inside its bucket: an estimate). */
static json_t *latency_json(const uint64_t *counts, uint64_t sum_us)
{
    uint64_t count = 0;
    for (int i = 0; i < CMN_STATS_BUCKETS; i++)
        count += counts[i];
    return json_pack("{s:o, s:o, s:o, s:I, s:o}", "p50", quantile_json(counts, 0.5), "p90",
                     quantile_json(counts, 0.9), "p99", quantile_json(counts, 0.99), "count",
                     (json_int_t)count, "mean",
                     count ? json_real((double)sum_us / 1e6 / (double)count) : json_null());
}

static json_t *by_class_json(const uint64_t *n, int classes, const char *(*name)(int))
{
    json_t *by = json_object();
    for (int i = 0; i < classes; i++)
        json_object_set_new(by, name(i), json_integer((json_int_t)n[i]));
    return by;
}

static json_t *restarts_json(const ctl_events_t *e)
{
    json_t *by = json_object();
    for (int i = 0; i < CTL_RESTART_CAUSES; i++)
        json_object_set_new(by, ctl_metrics_restart_name(i), json_integer((json_int_t)e->restarts[i]));
    return by;
}

/* The totals over every child (the gone ones' counters included). */
static void add_totals(json_t *doc, const ctl_metrics_t *m)
{
    const cmn_stats_snapshot_t *t = &m->totals;
    int64_t idle = t->connections - t->in_flight;
    json_object_set_new(doc, "concurrent_requests", json_integer(t->in_flight > 0 ? t->in_flight : 0));
    json_object_set_new(doc, "responses_5xx", json_integer((json_int_t)t->responses_5xx));
    json_object_set_new(doc, "bytes_sent", json_integer((json_int_t)t->bytes_sent));
    json_object_set_new(doc, "bytes_received", json_integer((json_int_t)t->bytes_received));
    json_object_set_new(doc, "requests_by_method",
                        by_class_json(t->by_method, CMN_METHOD_CLASSES, cmn_stats_method_name));
    json_object_set_new(doc, "responses_by_status",
                        by_class_json(t->by_status, CMN_STATUS_CLASSES, cmn_stats_status_name));
    json_object_set_new(doc, "latency", latency_json(t->duration, t->duration_sum_us));
    json_object_set_new(doc, "queue_time", latency_json(t->queue, t->queue_sum_us));
    json_object_set_new(doc, "threads", json_pack("{s:I, s:i}", "busy", (json_int_t)t->threads_busy,
                                                  "configured", m->threads_configured * m->children_ready));
    json_object_set_new(doc, "connections",
                        json_pack("{s:I, s:I, s:o}", "open", (json_int_t)t->connections, "idle",
                                  (json_int_t)(idle > 0 ? idle : 0), "closed",
                                  by_class_json(t->closed, CMN_CLOSE_REASONS,
                                                cmn_stats_close_reason_name)));
    json_object_set_new(doc, "restarts", restarts_json(&m->events));
}

/* Children, and the totals that add up over them. */
static void add_children(json_t *doc, const ctl_status_facts_t *f, const ctl_metrics_t *m,
                         ev_tstamp now)
{
    json_t *children = json_object();
    int i = 0;
    for (const ctl_child_t *c = f->children; c; c = c->next, i++) {
        char key[16];
        snprintf(key, sizeof key, "%d", (int)c->pid);
        json_object_set_new(children, key, child_json(c, &m->children[i], now));
    }
    json_object_set_new(doc, "children", children);
    json_object_set_new(doc, "active_children_count", json_integer(m->children_ready));
    add_totals(doc, m);
}

json_t *ctl_status_document(const ctl_status_facts_t *f)
{
    ev_tstamp now = ev_time();
    json_t *listen = json_array();
    for (int i = 0; i < f->listeners->n; i++)
        json_array_append_new(listen, json_string(f->listeners->items[i].url));
    json_t *doc = json_pack(
        "{s:i, s:s, s:i, s:f, s:f, s:f, s:o, s:i, s:i, s:i, s:i, s:I, s:f, s:o, s:o}", "version",
        1, "spawning_version", SPAWNING_VERSION, "pid", (int)getpid(), "started_at",
        wall(f->started_at), "now", now, "uptime", now - f->started_at, "listen", listen,
        "generation", f->generation, "pending_generation", f->pending_generation,
        "killed_children_count", f->killed_children, "configured_children_count", f->desired,
        "requests", (json_int_t)f->total_requests, "requests_per_second",
        f->requests_per_second, "config", config_json(f->cfg, f->listen_port), "reloads",
        reloads_json(f));
    ctl_metrics_t m;
    if (doc && ctl_metrics_collect(f->children, f->retired, f->events, f->cfg->threads, f->desired,
                                   now, &m) == 0) {
        add_children(doc, f, &m, now);
        ctl_metrics_free(&m);
    }
    if (doc && f->history)
        json_object_set_new(doc, "history", ctl_history_json(f->history));
    return doc;
}

json_t *ctl_status_readiness(const ctl_status_facts_t *f)
{
    int ready = 0;
    for (const ctl_child_t *c = f->children; c; c = c->next)
        ready += c->generation == f->generation && c->state == CTL_CHILD_READY;
    return json_pack("{s:b, s:b, s:i, s:i, s:i, s:i}", "ready", ctl_status_healthy(f), "stopping",
                     f->stopping, "generation", f->generation, "pending_generation",
                     f->pending_generation, "children_ready", ready, "children_desired",
                     f->desired);
}

bool ctl_status_healthy(const ctl_status_facts_t *f)
{
    if (f->stopping)
        return false;
    for (const ctl_child_t *c = f->children; c; c = c->next)
        if (c->generation == f->generation && c->state == CTL_CHILD_READY)
            return true;
    return false;
}
