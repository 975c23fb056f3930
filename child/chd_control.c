/* chd_control: see chd_control.h. */
#include "chd_control.h"

#include "chd_accesslog.h"
#include "cmn_ctlmsg.h"
#include "cmn_log.h"
#include "cmn_logfile.h"

#include <errno.h>
#include <string.h>

void chd_control_init(chd_control_t *ctl, int fd, chd_conn_env_t *env)
{
    ctl->fd = fd;
    ctl->env = env;
    atomic_init(&ctl->recycle_asked, false);
}

static void send_pong(chd_control_t *ctl, int active, const chd_conn_t *oldest)
{
    double now = chd_monotonic();
    /* The counters are on the shared page (chd_stats.h); this says only
     * what the controller's health checks need. */
    json_t *pong = json_pack("{s:s, s:i, s:f, s:s}", "type", CMN_MSG_PONG, "active", active,
                             "oldest", oldest ? now - oldest->request_started : 0.0,
                             "oldest_request", oldest ? oldest->request_line : "");
    if (pong)
        cmn_ctlmsg_send(ctl->fd, pong, NULL, 0);
    json_decref(pong);
}

/* Heartbeat answer from the loop's thread: the running requests are the
 * connections in the app. */
static void send_pong_from_list(chd_control_t *ctl)
{
    int active = 0;
    const chd_conn_t *oldest = NULL;
    for (const chd_conn_t *c = ctl->env->conns; c; c = c->next) {
        if (atomic_load(&((chd_conn_t *)c)->state) == CHD_CONN_WAITING)
            continue;
        active++;
        if (!oldest || c->request_started < oldest->request_started)
            oldest = c;
    }
    send_pong(ctl, active, oldest);
}

static void reopen_logs(chd_control_t *ctl)
{
    chd_accesslog_reopen(); /* first: lines buffered for stdout belong to the old file */
    const chd_config_t *cfg = ctl->env->cfg;
    int rc = cmn_logfile_reopen(cfg->stdout_path, cfg->stderr_path);
    if (rc < 0)
        cmn_error("cannot reopen the log files: %s", strerror(-rc));
}

/* "tls_keys": the controller rotated the session ticket keys. */
static void take_ticket_keys(chd_control_t *ctl, json_t *msg)
{
    const char *hex = json_string_value(json_object_get(msg, "keys"));
    uint8_t keys[CHD_TLS_MAX_TICKET_KEYS * CHD_TLS_TICKET_KEY_BYTES];
    int n = hex ? chd_tls_parse_ticket_keys(hex, keys) : -1;
    if (!ctl->tls)
        return;
    if (n < 0 || chd_tls_ctx_set_ticket_keys(ctl->tls, keys, n) < 0)
        cmn_warning("TLS: unusable ticket keys from the controller; the old ones stay");
    explicit_bzero(keys, sizeof keys);
}

chd_control_event_t chd_control_read(chd_control_t *ctl)
{
    for (;;) {
        int err;
        json_t *msg = cmn_ctlmsg_recv(ctl->fd, NULL, NULL, &err);
        if (!msg) {
            if (err == -EAGAIN)
                return CHD_CONTROL_IDLE;
            if (err == -EBADMSG)
                continue;
            return CHD_CONTROL_GONE;
        }
        const char *type = cmn_ctlmsg_type(msg);
        bool stop = strcmp(type, CMN_MSG_STOP) == 0;
        if (strcmp(type, CMN_MSG_PING) == 0) {
            send_pong_from_list(ctl);
        } else if (strcmp(type, CMN_MSG_TLS_KEYS) == 0) {
            take_ticket_keys(ctl, msg);
        } else if (strcmp(type, CMN_MSG_REOPEN) == 0) {
            reopen_logs(ctl);
        }
        json_decref(msg);
        if (stop)
            return CHD_CONTROL_STOP;
    }
}

void chd_control_request_done(chd_control_t *ctl)
{
    uint64_t done = atomic_fetch_add(&ctl->env->stats->requests_done, 1) + 1;
    long long max_requests = ctl->env->cfg->max_requests;
    if (max_requests > 0 && done >= (uint64_t)max_requests &&
        !atomic_exchange(&ctl->recycle_asked, true)) {
        cmn_info("served %llu requests (--max-requests): asking for a successor",
                 (unsigned long long)done);
        json_t *msg = json_pack("{s:s, s:s}", "type", CMN_MSG_RECYCLE, "reason", "max-requests");
        cmn_ctlmsg_send(ctl->fd, msg, NULL, 0);
        json_decref(msg);
    }
}
