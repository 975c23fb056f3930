/* ctl_health: the once-a-second judgement on each child, as a policy.
 *
 * Looks at the children the supervisor knows (their heartbeats, deadlines,
 * running requests, age and memory) and says what should happen to them:
 * kill one (no heartbeat for --deadman-timeout; still draining after
 * --graceful-timeout) or replace one gracefully (--timeout, --max-requests,
 * --max-age, --max-memory). It changes nothing itself: the supervisor
 * applies each decision (ctl_supervisor.c), and may decline one (only one
 * replacement runs at a time), in which case the next tick decides again.
 * Controller thread only. */
#ifndef CTL_HEALTH_H
#define CTL_HEALTH_H

#include "ctl_children.h"
#include "ctl_options.h"

typedef enum {
    CTL_HEALTH_KILL,    /* SIGKILL it now */
    CTL_HEALTH_REPLACE, /* start a successor, then drain it */
} ctl_health_action_t;

typedef enum {
    CTL_CAUSE_HEARTBEAT,      /* no heartbeat answer for --deadman-timeout */
    CTL_CAUSE_DRAIN_DEADLINE, /* draining for longer than --graceful-timeout */
    CTL_CAUSE_TIMEOUT,        /* a request ran past --timeout */
    CTL_CAUSE_MAX_REQUESTS,   /* it asked for a successor */
    CTL_CAUSE_MAX_AGE,
    CTL_CAUSE_MAX_MEMORY,
} ctl_health_cause_t;

typedef struct {
    ctl_health_action_t action;
    ctl_health_cause_t cause;
    ctl_child_t *child;
    char reason[200];  /* for the replacement's log line ("--max-age") */
    char message[300]; /* what to log when it is carried out, or "" */
} ctl_health_decision_t;

/* Called once per decision, in order. */
typedef void (*ctl_health_apply_fn)(void *ctx, const ctl_health_decision_t *decision);

/* A process's resident memory in bytes, or negative when unknown: the
 * supervisor passes ctl_children_rss; a test its own figures. */
typedef long long (*ctl_health_rss_fn)(pid_t pid);

/* Judges every child at time `now`, from its record and its memory (`rss`),
 * and hands each decision to `apply` (which may change the list: new
 * children go in front of it). */
void ctl_health_check(const ctl_config_t *cfg, ctl_child_t *children, ev_tstamp now,
                      ctl_health_rss_fn rss, ctl_health_apply_fn apply, void *ctx);

#endif
