/* ctl_children: what the controller knows of each child process.
 *
 * A record per live child: its pid, generation, state, control channel and
 * the vital signs its heartbeat answers carry. The list is owned and
 * changed by the supervisor (ctl_supervisor.c); ctl_health.c (the periodic
 * judgement) and ctl_status.c (the status document) only read it. Records
 * live from spawn until the process is reaped. */
#ifndef CTL_CHILDREN_H
#define CTL_CHILDREN_H

#include "cmn_statspage.h"
#include "ctl_history.h"

#include <ev.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum {
    CTL_CHILD_STARTING, /* forked, importing the app */
    CTL_CHILD_READY,    /* accepting and serving */
    CTL_CHILD_DRAINING, /* told to stop: finishing its requests */
} ctl_child_state_t;

typedef struct ctl_child {
    struct ctl_child *next;
    void *owner; /* the supervisor */
    pid_t pid;
    int generation;
    int slot; /* --reuse-port: which of the sockets it accepts on */
    ctl_child_state_t state;
    int control_fd;
    ev_io control_watcher;
    ev_tstamp started_at, ready_at, drain_at, last_pong;
    double age_limit;           /* --max-age plus this child's stagger; 0: none */
    struct ctl_child *replaces; /* drain that child once this one is ready */
    bool being_replaced;        /* a successor is starting */
    char *fatal_error;          /* what it said before dying at start-up */
    cmn_statspage_t *stats; /* its live counters (cmn_statspage.h), or NULL */
    bool heartbeat_killed;  /* the controller killed it for missing heartbeats */
    /* From the last "pong": */
    int active;
    double oldest;              /* seconds the oldest running request has run */
    char oldest_request[128];
    bool timeout_reported;
    bool timed_out;     /* said a request ran past --timeout (CMN_MSG_TIMEOUT) */
    bool wants_recycle; /* asked for a successor (--max-requests); retried each tick */
    ctl_trend_t memory_trend; /* resident bytes, a point a step (the status page) */
} ctl_child_t;

/* Allocates a record for a started process (control_fd is taken over). */
ctl_child_t *ctl_children_new(void *owner, pid_t pid, int control_fd, int generation,
                              ev_tstamp now);

/* Frees a record (closes its control fd, unmaps its counter page; the
 * caller stopped the watcher). */
void ctl_children_free(ctl_child_t *c);

/* Records a heartbeat answer ("pong", see cmn_ctlmsg.h) received at now. */
void ctl_children_record_pong(ctl_child_t *c, json_t *msg, ev_tstamp now);

/* Records a "timeout" message: the request that ran past --timeout
 * becomes the oldest one, and the child is marked for replacement. */
void ctl_children_record_timeout(ctl_child_t *c, json_t *msg);

/* Sends {"type": type} to the child, best effort. */
void ctl_children_send(ctl_child_t *c, const char *type);

/* Resident memory of a process in bytes, or a negative errno. */
long long ctl_children_rss(pid_t pid);

/* CPU seconds (user + system) a process used, from /proc/PID/stat, or a
 * negative number when it cannot be read. */
double ctl_children_cpu_seconds(pid_t pid);

const char *ctl_children_state_name(ctl_child_state_t state);

#endif
