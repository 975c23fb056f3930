/* ctl_servicesocks: binding the admin socket and the status port at start
 * (contract in ctl_servicesocks.h). */
#include "ctl_servicesocks.h"

#include "cmn_admin.h"
#include "ctl_listen.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Without --admin-socket: named after the first address's port, or after
 * its socket file when it is a UNIX socket. */
static void default_admin_path(const ctl_listeners_t *ls, char *buf, size_t len)
{
    int port = ctl_listeners_port(ls);
    if (port == 0 && ls->n > 0) {
        const char *url = ls->items[0].url;
        cmn_admin_default_path_named(strncmp(url, "unix:", 5) == 0 ? url + 5 : url, buf, len);
    } else {
        cmn_admin_default_path(port, buf, len);
    }
}

/* 0600: only this user (and root) may even connect; ctl_admin checks each
 * peer with SO_PEERCRED as well. */
static int open_admin(ctl_servicesocks_t *s, const ctl_config_t *cfg, const ctl_listeners_t *ls,
                      char *err, size_t errlen)
{
    if (cfg->admin_socket)
        snprintf(s->admin_path, sizeof s->admin_path, "%s", cfg->admin_socket);
    else
        default_admin_path(ls, s->admin_path, sizeof s->admin_path);
    if (strcmp(s->admin_path, "none") == 0)
        return 0;
    char why[400];
    int fd = ctl_listen_unix(s->admin_path, 0600, &s->admin_dev, &s->admin_ino, why, sizeof why);
    if (fd < 0) {
        snprintf(err, errlen, "admin socket: %s", why);
        return fd;
    }
    s->admin_fd = fd;
    return 0;
}

static int open_status(ctl_servicesocks_t *s, const ctl_config_t *cfg, char *err, size_t errlen)
{
    if (!cfg->status_port)
        return 0;
    const char *host = cfg->status_host ? cfg->status_host : cfg->host;
    char why[400];
    int bound;
    int fd = ctl_listen_tcp(host, cfg->status_port, &bound, why, sizeof why);
    if (fd < 0) {
        snprintf(err, errlen, "status service: %s", why);
        return fd;
    }
    s->status_fd = fd;
    ctl_listen_url(host, bound, s->status_url, sizeof s->status_url);
    return 0;
}

int ctl_servicesocks_open(ctl_servicesocks_t *s, const ctl_config_t *cfg,
                          const ctl_listeners_t *ls, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->admin_fd = -1;
    s->status_fd = -1;
    int rc = open_admin(s, cfg, ls, err, errlen);
    if (rc == 0)
        rc = open_status(s, cfg, err, errlen);
    if (rc < 0)
        ctl_servicesocks_close(s);
    return rc;
}

int ctl_servicesocks_chown(const ctl_servicesocks_t *s, uid_t uid, gid_t gid, char *err,
                           size_t errlen)
{
    if (s->admin_fd < 0 || lchown(s->admin_path, uid, gid) == 0)
        return 0;
    int e = errno;
    snprintf(err, errlen, "admin socket %s: cannot give it to --chuid: %s", s->admin_path,
             strerror(e));
    return -e;
}

void ctl_servicesocks_close(ctl_servicesocks_t *s)
{
    if (s->admin_fd >= 0) {
        close(s->admin_fd);
        ctl_listen_unlink_unix(s->admin_path, s->admin_dev, s->admin_ino);
    }
    s->admin_fd = -1;
    if (s->status_fd >= 0)
        close(s->status_fd);
    s->status_fd = -1;
}
