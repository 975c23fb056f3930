/* ctl_status: see ctl_status.h. */
#include "ctl_status.h"

#include "cmn_version.h"
#include "ctl_listen.h"

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

static json_t *child_json(const ctl_child_t *c, ev_tstamp now)
{
    long long rss = ctl_children_rss(c->pid);
    json_t *child = json_pack("{s:i, s:b, s:f, s:f, s:i, s:i, s:s, s:I, s:i, s:I, s:f, s:I, s:I}", "pid",
                     (int)c->pid, "active", c->state == CTL_CHILD_READY, "uptime",
                     now - c->started_at, "forked_at", wall(c->started_at), "concurrent_requests",
                     c->active, "generation", c->generation, "state",
                     ctl_children_state_name(c->state), "requests", (json_int_t)c->requests,
                     "active_connections", c->connections, "rss_bytes",
                     (json_int_t)(rss > 0 ? rss : 0), "last_heartbeat", wall(c->last_pong),
                     "responses_5xx", (json_int_t)c->responses_5xx, "bytes_sent",
                     (json_int_t)c->bytes_sent);
    if (child)
        json_object_set_new(child, "memory_trend", ctl_trend_json(&c->memory_trend));
    return child;
}

static json_t *reloads_json(const ctl_status_facts_t *f)
{
    return json_pack("{s:i, s:s?, s:s?}", "count", f->reloads, "last_reason",
                     f->reloads ? f->last_reload_reason : NULL, "last_error",
                     f->last_reload_error);
}

/* Children, and the totals that add up over them. */
static void add_children(json_t *doc, const ctl_status_facts_t *f, ev_tstamp now)
{
    json_t *children = json_object();
    int active = 0, concurrent = 0;
    uint64_t fivexx = f->retired_5xx, bytes = f->retired_bytes;
    for (const ctl_child_t *c = f->children; c; c = c->next) {
        char key[16];
        snprintf(key, sizeof key, "%d", (int)c->pid);
        json_object_set_new(children, key, child_json(c, now));
        active += c->state == CTL_CHILD_READY;
        concurrent += c->active;
        fivexx += c->responses_5xx;
        bytes += c->bytes_sent;
    }
    json_object_set_new(doc, "children", children);
    json_object_set_new(doc, "active_children_count", json_integer(active));
    json_object_set_new(doc, "concurrent_requests", json_integer(concurrent));
    json_object_set_new(doc, "responses_5xx", json_integer((json_int_t)fivexx));
    json_object_set_new(doc, "bytes_sent", json_integer((json_int_t)bytes));
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
    if (doc)
        add_children(doc, f, now);
    if (doc && f->history)
        json_object_set_new(doc, "history", ctl_history_json(f->history));
    return doc;
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
