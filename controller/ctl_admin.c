/* ctl_admin: see ctl_admin.h. */
#include "ctl_admin.h"

#include "cmn_admin.h"
#include "cmn_log.h"
#include "ctl_miniserver.h"
#include "ctl_shutdown.h"
#include "ctl_status.h"
#include "ctl_supervisor.h"
#include "ctl_supervisor_priv.h"

#include <errno.h>
#include <signal.h>
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

static void run_command(ctl_supervisor_t *sup, const char *cmd, json_t *req, cmn_buf_t *reply)
{
    if (strcmp(cmd, "status") == 0) {
        reply_json(reply, json_pack("{s:b, s:o}", "ok", 1, "status", ctl_status_document(sup)));
    } else if (strcmp(cmd, "reload") == 0) {
        ctl_supervisor_reload(sup, "spawnctl reload");
        reply_json(reply, json_pack("{s:b}", "ok", 1));
    } else if (strcmp(cmd, "scale") == 0) {
        const char *arg = json_string_value(json_object_get(req, "processes"));
        int n = arg ? parse_scale(arg, sup->desired) : -1;
        if (n < 0) {
            reply_error(reply, "scale: want N, +N or -N, leaving 1 to 1024 children");
        } else {
            ctl_supervisor_scale(sup, n);
            reply_json(reply, json_pack("{s:b, s:i}", "ok", 1, "processes", n));
        }
    } else if (strcmp(cmd, "stop") == 0) {
        bool now = json_is_true(json_object_get(req, "now"));
        if (now) {
            cmn_info("spawnctl stop --now");
            ctl_supervisor_stop(sup, SIGQUIT, CTL_IMMEDIATE_STOP_GRACE);
        } else {
            ctl_shutdown_graceful(sup, "spawnctl stop");
        }
        reply_json(reply, json_pack("{s:b}", "ok", 1));
    } else if (strcmp(cmd, "reopen-logs") == 0) {
        ctl_supervisor_reopen_logs(sup);
        reply_json(reply, json_pack("{s:b}", "ok", 1));
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
    ctl_supervisor_t *sup = arg;
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
        run_command(sup, cmd, req, reply);
    json_decref(req);
    return true;
}

/* A socket file nobody answers on is a leftover: remove it. */
static int clear_stale(const char *path, const struct sockaddr_un *addr)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return 0;
    if (!S_ISSOCK(st.st_mode))
        return -EEXIST;
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int live = probe >= 0 && connect(probe, (const struct sockaddr *)addr, sizeof *addr) == 0;
    if (probe >= 0)
        close(probe);
    if (live)
        return -EADDRINUSE;
    unlink(path);
    return 0;
}

int ctl_admin_start(ctl_supervisor_t *sup, const char *path, char *err, size_t errlen)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof addr.sun_path) {
        snprintf(err, errlen, "admin socket path too long: %s", path);
        return -ENAMETOOLONG;
    }
    strcpy(addr.sun_path, path);
    int rc = clear_stale(path, &addr);
    if (rc < 0) {
        snprintf(err, errlen, "admin socket %s: %s", path,
                 rc == -EADDRINUSE ? "another controller is using it" : "not a socket");
        return rc;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    mode_t old = umask(0177); /* created 0600: never open to others, not even briefly */
    rc = fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0 && listen(fd, 16) == 0
             ? 0
             : -errno;
    umask(old);
    if (rc < 0) {
        snprintf(err, errlen, "admin socket %s: %s", path, strerror(-rc));
        if (fd >= 0)
            close(fd);
        return rc;
    }
    sup->admin = ctl_miniserver_start(sup->loop, fd, "\n", handle, sup);
    return sup->admin ? 0 : -ENOMEM;
}

void ctl_admin_stop(ctl_supervisor_t *sup, const char *path)
{
    if (!sup->admin)
        return;
    ctl_miniserver_stop(sup->admin);
    sup->admin = NULL;
    unlink(path);
}
