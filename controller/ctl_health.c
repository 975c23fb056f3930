/* ctl_health: the supervisor's once-a-second checks (see
 * ctl_supervisor_priv.h): heartbeats and their deadline, the deadline of
 * draining children, --timeout, --max-age and --max-memory. Decisions to
 * replace a child go through ctl_supervisor_replace(), which replaces one
 * child at a time, so the checks simply try again on the next tick. */
#include "cmn_ctlmsg.h"
#include "cmn_log.h"
#include "ctl_supervisor_priv.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

void ctl_health_pong(ctl_supervisor_t *sup, ctl_child_t *c, json_t *msg)
{
    c->last_pong = ev_now(sup->loop);
    c->requests = (uint64_t)json_integer_value(json_object_get(msg, "requests"));
    c->responses_5xx = (uint64_t)json_integer_value(json_object_get(msg, "responses_5xx"));
    c->bytes_sent = (uint64_t)json_integer_value(json_object_get(msg, "bytes_sent"));
    c->active = (int)json_integer_value(json_object_get(msg, "active"));
    c->connections = (int)json_integer_value(json_object_get(msg, "connections"));
    c->oldest = json_number_value(json_object_get(msg, "oldest"));
    const char *line = json_string_value(json_object_get(msg, "oldest_request"));
    snprintf(c->oldest_request, sizeof c->oldest_request, "%s", line ? line : "");
}

/* Kills children past a deadline: no heartbeat answer, or still draining. */
static void enforce_deadlines(ctl_supervisor_t *sup, ctl_child_t *c, ev_tstamp now)
{
    double deadman = sup->cfg->deadman_timeout, graceful = sup->cfg->graceful_timeout;
    if (c->state == CTL_CHILD_READY && now - c->last_pong > deadman) {
        cmn_error("child %d has not answered heartbeats for %.0f s%s%s; killing it", (int)c->pid,
                  now - c->last_pong, c->active ? "; it was running " : "",
                  c->active ? c->oldest_request : "");
        kill(c->pid, SIGKILL);
    } else if (c->state == CTL_CHILD_DRAINING && now - c->drain_at > graceful) {
        cmn_warning("child %d did not finish within %.0f s%s%s; killing it", (int)c->pid, graceful,
                    c->active ? "; still running " : "", c->active ? c->oldest_request : "");
        kill(c->pid, SIGKILL);
    }
}

/* --timeout and --max-age: replace the child (gracefully). */
static void enforce_limits(ctl_supervisor_t *sup, ctl_child_t *c, ev_tstamp now)
{
    const ctl_config_t *cfg = sup->cfg;
    if (c->state != CTL_CHILD_READY || c->being_replaced)
        return;
    if (cfg->timeout > 0 && c->active && c->oldest > cfg->timeout && !c->timeout_reported) {
        char reason[200];
        snprintf(reason, sizeof reason, "--timeout: %s has run %.0f s", c->oldest_request,
                 c->oldest);
        if (ctl_supervisor_replace(sup, c, reason)) {
            cmn_error("child %d: request %s has run for %.0f s (--timeout %.0f)", (int)c->pid,
                      c->oldest_request, c->oldest, cfg->timeout);
            c->timeout_reported = true;
        }
        return;
    }
    if (c->wants_recycle)
        c->wants_recycle = !ctl_supervisor_replace(sup, c, "--max-requests");
    else if (c->age_limit > 0 && now - c->ready_at > c->age_limit)
        ctl_supervisor_replace(sup, c, "--max-age");
}

/* --max-memory: while the children's summed RSS is over the limit, replace
 * the largest (one at a time). */
static void enforce_memory(ctl_supervisor_t *sup)
{
    long long limit = sup->cfg->max_memory;
    if (limit <= 0)
        return;
    long long total = 0, largest_rss = -1;
    ctl_child_t *largest = NULL;
    for (ctl_child_t *c = sup->children; c; c = c->next) {
        long long rss = ctl_children_rss(c->pid);
        if (rss < 0)
            continue;
        total += rss;
        if (c->state == CTL_CHILD_READY && !c->being_replaced && rss > largest_rss) {
            largest = c;
            largest_rss = rss;
        }
    }
    if (total <= limit || !largest)
        return;
    char reason[160];
    snprintf(reason, sizeof reason, "--max-memory: children use %lld MB of %lld MB; it uses %lld MB",
             total >> 20, limit >> 20, largest_rss >> 20);
    ctl_supervisor_replace(sup, largest, reason);
}

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)revents;
    ctl_supervisor_t *sup = w->data;
    if (sup->stopping)
        return;
    ev_tstamp now = ev_now(loop);
    for (ctl_child_t *c = sup->children; c; c = c->next) {
        if (c->state == CTL_CHILD_READY)
            ctl_children_send(c, CMN_MSG_PING);
        enforce_deadlines(sup, c, now);
        enforce_limits(sup, c, now);
    }
    enforce_memory(sup);
    sup->samples[sup->next_sample].at = now;
    sup->samples[sup->next_sample].requests = ctl_supervisor_total_requests(sup);
    sup->next_sample = (sup->next_sample + 1) % CTL_RATE_SAMPLES;
    if (sup->nsamples < CTL_RATE_SAMPLES)
        sup->nsamples++;
}

void ctl_health_start(ctl_supervisor_t *sup)
{
    ev_timer_init(&sup->tick, on_tick, CTL_TICK, CTL_TICK);
    sup->tick.data = sup;
    ev_timer_start(sup->loop, &sup->tick);
}
