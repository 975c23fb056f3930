/* ctl_admin: see ctl_admin.h. */
#include "ctl_admin.h"

#include "cmn_admin.h"
#include "cmn_log.h"
#include "ctl_listen.h"
#include "ctl_miniserver.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static void reply_json(cmn_buf_t *reply, json_t *obj)
{
    char *text = json_dumps(obj, JSON_COMPACT);
    if (text) {
        cmn_buf_append_str(reply, text);
        cmn_buf_append(reply, "\n", 1);
        free(text);
    }
    json_decref(obj);
}

static void reply_error(cmn_buf_t *reply, const char *why)
{
    reply_json(reply, json_pack("{s:b, s:s}", "ok", 0, "error", why));
}

/* "N", "+N" or "-N" relative to `current`; -1 when malformed. */
static int parse_scale(const char *s, int current)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < -1024 || v > 1024)
        return -1;
    long n = (s[0] == '+' || s[0] == '-') ? current + v : v;
    return n >= 1 && n <= 1024 ? (int)n : -1;
}

struct ctl_admin {
    ctl_ops_t ops;
    ctl_miniserver_t *server;
    char path[108];
    unsigned long dev, ino; /* the socket file, removed at stop if still ours */
};

static void reply_ok(cmn_buf_t *reply)
{
    reply_json(reply, json_pack("{s:b}", "ok", 1));
}

static void run_scale(const ctl_ops_t *ops, json_t *req, cmn_buf_t *reply)
{
    const char *arg = json_string_value(json_object_get(req, "processes"));
    int n = arg ? parse_scale(arg, ops->processes(ops->ctx)) : -1;
    if (n < 0) {
        reply_error(reply, "scale: want N, +N or -N, leaving 1 to 1024 children");
        return;
    }
    ops->scale(ops->ctx, n);
    reply_json(reply, json_pack("{s:b, s:i}", "ok", 1, "processes", n));
}

static void run_command(const ctl_ops_t *ops, const char *cmd, json_t *req, cmn_buf_t *reply)
{
    if (strcmp(cmd, "status") == 0) {
        reply_json(reply, json_pack("{s:b, s:o}", "ok", 1, "status", ops->status(ops->ctx)));
    } else if (strcmp(cmd, "reload") == 0) {
        ops->reload(ops->ctx, "spawnctl reload");
        reply_ok(reply);
    } else if (strcmp(cmd, "scale") == 0) {
        run_scale(ops, req, reply);
    } else if (strcmp(cmd, "stop") == 0) {
        bool now = json_is_true(json_object_get(req, "now"));
        cmn_info("spawnctl stop%s", now ? " --now" : "");
        ops->stop(ops->ctx, now);
        reply_ok(reply);
    } else if (strcmp(cmd, "reopen-logs") == 0) {
        ops->reopen_logs(ops->ctx);
        reply_ok(reply);
    } else {
        reply_error(reply, "unknown command");
    }
}

/* Only our own user, or root, may drive the controller. */
static bool peer_allowed(int fd)
{
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
        return false;
    return cred.uid == 0 || cred.uid == geteuid();
}

static bool handle(void *arg, int peer_fd, const char *request, size_t len, cmn_buf_t *reply)
{
    ctl_admin_t *admin = arg;
    if (!peer_allowed(peer_fd)) {
        reply_error(reply, "permission denied");
        return false;
    }
    json_t *req = json_loadb(request, len, 0, NULL);
    const char *cmd = json_string_value(json_object_get(req, "command"));
    json_t *version = json_object_get(req, "version");
    if (!json_is_object(req) || !cmd)
        reply_error(reply, "bad request: want a JSON object with a command");
    else if (version && json_integer_value(version) != CMN_ADMIN_PROTOCOL_VERSION)
        reply_error(reply, "unsupported protocol version");
    else
        run_command(&admin->ops, cmd, req, reply);
    json_decref(req);
    return true;
}

ctl_admin_t *ctl_admin_start(struct ev_loop *loop, ctl_servicesocks_t *socks,
                             const ctl_ops_t *ops, char *err, size_t errlen)
{
    ctl_admin_t *admin = calloc(1, sizeof *admin);
    if (!admin || strlen(socks->admin_path) >= sizeof admin->path) {
        snprintf(err, errlen, "admin socket %s: %s", socks->admin_path,
                 admin ? "path too long" : "out of memory");
        free(admin);
        return NULL;
    }
    admin->ops = *ops;
    admin->server = ctl_miniserver_start(loop, socks->admin_fd, "\n", handle, admin);
    if (!admin->server) {
        snprintf(err, errlen, "admin socket %s: out of memory", socks->admin_path);
        free(admin);
        return NULL;
    }
    memcpy(admin->path, socks->admin_path, strlen(socks->admin_path) + 1); /* fits: checked */
    admin->dev = socks->admin_dev;
    admin->ino = socks->admin_ino;
    socks->admin_fd = -1;
    return admin;
}

void ctl_admin_stop(ctl_admin_t *admin)
{
    if (!admin)
        return;
    ctl_miniserver_stop(admin->server);
    ctl_listen_unlink_unix(admin->path, admin->dev, admin->ino);
    free(admin);
}
