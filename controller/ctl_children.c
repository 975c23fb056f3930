/* ctl_children: see ctl_children.h. */
#include "ctl_children.h"

#include "cmn_ctlmsg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

ctl_child_t *ctl_children_new(void *owner, pid_t pid, int control_fd, int generation,
                              ev_tstamp now)
{
    ctl_child_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->owner = owner;
    c->pid = pid;
    c->control_fd = control_fd;
    c->generation = generation;
    c->state = CTL_CHILD_STARTING;
    c->started_at = c->last_pong = now;
    return c;
}

void ctl_children_free(ctl_child_t *c)
{
    if (c->control_fd >= 0)
        close(c->control_fd);
    free(c->fatal_error);
    cmn_statspage_release(c->stats);
    free(c);
}

void ctl_children_record_pong(ctl_child_t *c, json_t *msg, ev_tstamp now)
{
    c->last_pong = now;
    c->active = (int)json_integer_value(json_object_get(msg, "active"));
    c->oldest = json_number_value(json_object_get(msg, "oldest"));
    const char *line = json_string_value(json_object_get(msg, "oldest_request"));
    snprintf(c->oldest_request, sizeof c->oldest_request, "%s", line ? line : "");
}

void ctl_children_record_timeout(ctl_child_t *c, json_t *msg)
{
    c->timed_out = true;
    c->oldest = json_number_value(json_object_get(msg, "ran"));
    const char *line = json_string_value(json_object_get(msg, "request"));
    snprintf(c->oldest_request, sizeof c->oldest_request, "%s", line ? line : "");
}

void ctl_children_send(ctl_child_t *c, const char *type)
{
    if (c->control_fd < 0)
        return;
    json_t *msg = json_pack("{s:s}", "type", type);
    cmn_ctlmsg_send(c->control_fd, msg, NULL, 0);
    json_decref(msg);
}

long long ctl_children_rss(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/statm", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -errno;
    long long size, resident;
    int n = fscanf(f, "%lld %lld", &size, &resident);
    fclose(f);
    if (n != 2)
        return -EIO;
    return resident * sysconf(_SC_PAGESIZE);
}

double ctl_children_cpu_seconds(pid_t pid)
{
    char path[64], text[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    /* "PID (COMM) S ..." where COMM may hold spaces and parentheses: the
     * fields after the last ')' are 3..; utime and stime are 14 and 15. */
    const char *p = strrchr(text, ')');
    unsigned long long utime, stime;
    if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                     &stime) != 2)
        return -1;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

const char *ctl_children_state_name(ctl_child_state_t state)
{
    switch (state) {
    case CTL_CHILD_STARTING: return "starting";
    case CTL_CHILD_READY: return "ready";
    case CTL_CHILD_DRAINING: return "draining";
    }
    return "?";
}
