/* chd_control: see chd_control.h. */
#include "chd_control.h"

#include "chd_accesslog.h"
#include "chd_orphan.h"
#include "cmn_ctlmsg.h"
#include "cmn_log.h"
#include "cmn_logfile.h"

#include <errno.h>
#include <string.h>

static void send_pong(chd_server_t *s, int active, const chd_conn_t *oldest)
{
    double now = chd_monotonic();
    json_t *pong = json_pack(
        "{s:s, s:I, s:i, s:i, s:f, s:s, s:I, s:I}", "type", CMN_MSG_PONG, "requests",
        (json_int_t)atomic_load(&s->requests_done), "active", active, "connections",
        atomic_load(&s->nconns), "oldest", oldest ? now - oldest->request_started : 0.0,
        "oldest_request", oldest ? oldest->request_line : "", "responses_5xx",
        (json_int_t)atomic_load(&s->responses_5xx), "bytes_sent",
        (json_int_t)atomic_load(&s->bytes_sent));
    if (pong)
        cmn_ctlmsg_send(s->control_fd, pong, NULL, 0);
    json_decref(pong);
}

/* Heartbeat answer from the loop's thread: the running requests are the
 * connections in the app. */
static void send_pong_from_list(chd_server_t *s)
{
    int active = 0;
    const chd_conn_t *oldest = NULL;
    for (const chd_conn_t *c = s->conns; c; c = c->next) {
        if (atomic_load(&((chd_conn_t *)c)->state) == CHD_CONN_WAITING)
            continue;
        active++;
        if (!oldest || c->request_started < oldest->request_started)
            oldest = c;
    }
    send_pong(s, active, oldest);
}

static void reopen_logs(chd_server_t *s)
{
    chd_accesslog_reopen(); /* first: lines buffered for stdout belong to the old file */
    int rc = cmn_logfile_reopen(s->cfg->stdout_path, s->cfg->stderr_path);
    if (rc < 0)
        cmn_error("cannot reopen the log files: %s", strerror(-rc));
}

/* Reads and handles every queued message; `running` set means the
 * heartbeat thread reads on behalf of a busy I/O thread. */
static chd_control_event_t read_messages(chd_server_t *s, const chd_conn_t *running)
{
    for (;;) {
        int err;
        json_t *msg = cmn_ctlmsg_recv(s->control_fd, NULL, NULL, &err);
        if (!msg) {
            if (err == -EAGAIN)
                return CHD_CONTROL_IDLE;
            if (err == -EBADMSG)
                continue;
            chd_orphan_begin(s);
            return CHD_CONTROL_GONE;
        }
        const char *type = cmn_ctlmsg_type(msg);
        bool stop = strcmp(type, CMN_MSG_STOP) == 0;
        if (strcmp(type, CMN_MSG_PING) == 0) {
            if (running)
                send_pong(s, 1, running);
            else
                send_pong_from_list(s);
        } else if (strcmp(type, CMN_MSG_REOPEN) == 0) {
            reopen_logs(s);
        }
        json_decref(msg);
        if (stop)
            return CHD_CONTROL_STOP;
    }
}

chd_control_event_t chd_control_read(chd_server_t *s) { return read_messages(s, NULL); }

chd_control_event_t chd_control_read_during_inline(chd_server_t *s, const chd_conn_t *running)
{
    chd_control_event_t ev = read_messages(s, running);
    if (ev == CHD_CONTROL_GONE)
        chd_orphan_release_listeners(s); /* the port must not wait for this request */
    if (ev != CHD_CONTROL_IDLE && s->loop)
        ev_async_send(s->loop, &s->wake); /* the loop acts once the request is done */
    return ev;
}

void chd_control_request_done(chd_server_t *s)
{
    uint64_t done = atomic_fetch_add(&s->requests_done, 1) + 1;
    if (s->cfg->max_requests > 0 && done >= (uint64_t)s->cfg->max_requests &&
        !atomic_exchange(&s->recycle_asked, true)) {
        cmn_info("served %llu requests (--max-requests): asking for a successor",
                 (unsigned long long)done);
        json_t *msg = json_pack("{s:s, s:s}", "type", CMN_MSG_RECYCLE, "reason", "max-requests");
        cmn_ctlmsg_send(s->control_fd, msg, NULL, 0);
        json_decref(msg);
    }
}
