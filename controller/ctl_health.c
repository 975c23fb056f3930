/* ctl_health: see ctl_health.h. */
#include "ctl_health.h"

#include <stdio.h>
#include <string.h>

static void decide(ctl_health_apply_fn apply, void *ctx, ctl_health_action_t action,
                   ctl_health_cause_t cause, ctl_child_t *c, const char *reason,
                   const char *message)
{
    ctl_health_decision_t d = {.action = action, .cause = cause, .child = c};
    snprintf(d.reason, sizeof d.reason, "%s", reason);
    snprintf(d.message, sizeof d.message, "%s", message ? message : "");
    apply(ctx, &d);
}

/* No heartbeat answer, or still draining: kill. */
static void judge_deadlines(const ctl_config_t *cfg, ctl_child_t *c, ev_tstamp now,
                            ctl_health_apply_fn apply, void *ctx)
{
    char message[300];
    const char *running = c->active ? c->oldest_request : "";
    if (c->state == CTL_CHILD_READY && now - c->last_pong > cfg->deadman_timeout) {
        snprintf(message, sizeof message, "child %d has not answered heartbeats for %.0f s%s%s; "
                 "killing it", (int)c->pid, now - c->last_pong,
                 c->active ? "; it was running " : "", running);
        decide(apply, ctx, CTL_HEALTH_KILL, CTL_CAUSE_HEARTBEAT, c, "heartbeat", message);
    } else if (c->state == CTL_CHILD_DRAINING && now - c->drain_at > cfg->graceful_timeout) {
        snprintf(message, sizeof message, "child %d did not finish within %.0f s%s%s; killing it",
                 (int)c->pid, cfg->graceful_timeout, c->active ? "; still running " : "",
                 running);
        decide(apply, ctx, CTL_HEALTH_KILL, CTL_CAUSE_DRAIN_DEADLINE, c, "graceful-timeout",
               message);
    }
}

/* --timeout, --max-requests, --max-age: replace (gracefully). */
static void judge_limits(const ctl_config_t *cfg, ctl_child_t *c, ev_tstamp now,
                         ctl_health_apply_fn apply, void *ctx)
{
    if (c->state != CTL_CHILD_READY || c->being_replaced)
        return;
    bool overran = c->timed_out || (c->active && c->oldest > cfg->timeout);
    if (cfg->timeout > 0 && overran && !c->timeout_reported) {
        char reason[200], message[300];
        snprintf(reason, sizeof reason, "--timeout: %s has run %.0f s", c->oldest_request,
                 c->oldest);
        snprintf(message, sizeof message, "child %d: request %s has run for %.0f s (--timeout %.0f)",
                 (int)c->pid, c->oldest_request, c->oldest, cfg->timeout);
        decide(apply, ctx, CTL_HEALTH_REPLACE, CTL_CAUSE_TIMEOUT, c, reason, message);
        return;
    }
    if (c->wants_recycle)
        decide(apply, ctx, CTL_HEALTH_REPLACE, CTL_CAUSE_MAX_REQUESTS, c, "--max-requests", NULL);
    else if (c->age_limit > 0 && now - c->ready_at > c->age_limit)
        decide(apply, ctx, CTL_HEALTH_REPLACE, CTL_CAUSE_MAX_AGE, c, "--max-age", NULL);
}

/* --max-memory: while the children's summed RSS is over the limit, replace
 * the largest. */
static void judge_memory(const ctl_config_t *cfg, ctl_child_t *children, ctl_health_rss_fn rss_of,
                         ctl_health_apply_fn apply, void *ctx)
{
    long long limit = cfg->max_memory;
    if (limit <= 0)
        return;
    long long total = 0, largest_rss = -1;
    ctl_child_t *largest = NULL;
    for (ctl_child_t *c = children; c; c = c->next) {
        long long rss = rss_of(c->pid);
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
    char reason[200];
    snprintf(reason, sizeof reason, "--max-memory: children use %lld MB of %lld MB; it uses %lld MB",
             total >> 20, limit >> 20, largest_rss >> 20);
    decide(apply, ctx, CTL_HEALTH_REPLACE, CTL_CAUSE_MAX_MEMORY, largest, reason, NULL);
}

void ctl_health_check(const ctl_config_t *cfg, ctl_child_t *children, ev_tstamp now,
                      ctl_health_rss_fn rss, ctl_health_apply_fn apply, void *ctx)
{
    for (ctl_child_t *c = children; c; c = c->next) {
        judge_deadlines(cfg, c, now, apply, ctx);
        judge_limits(cfg, c, now, apply, ctx);
    }
    judge_memory(cfg, children, rss, apply, ctx);
}
