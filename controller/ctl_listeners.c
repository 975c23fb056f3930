/* ctl_listeners: see ctl_listeners.h. */
#include "ctl_listeners.h"

#include "ctl_listen.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/types.h>

#define SYSTEMD_FIRST_FD 3 /* sd_listen_fds(3): passed sockets start here */

static int open_tcp(ctl_listener_t *l, bool reuse_port, char *err, size_t errlen)
{
    int bound = 0;
    /* With --reuse-port the controller only holds the port; each child slot
     * gets its own socket. */
    l->fd = ctl_listen_tcp_flags(l->bind.host, l->bind.port,
                                 reuse_port ? CTL_LISTEN_REUSEPORT | CTL_LISTEN_NO_LISTEN : 0,
                                 &bound, err, errlen);
    if (l->fd < 0)
        return l->fd;
    l->bind.port = bound;
    l->per_slot = reuse_port;
    ctl_reuseport_init(&l->reuse, l->bind.host, bound);
    return 0;
}

/* An inherited socket (fd://N, systemd): what it is bound to is learnt
 * from the socket itself; it is always shared by every child. */
static int adopt(ctl_listener_t *l, int fd, char *err, size_t errlen)
{
    l->bind.kind = CTL_BIND_FD;
    l->bind.fd = fd;
    l->fd = ctl_listen_adopt(fd, err, errlen);
    if (l->fd < 0)
        return l->fd;
    if (ctl_listen_describe_fd(l->fd, l->bind.host, &l->bind.port, l->url, sizeof l->url) < 0)
        ctl_bind_describe(&l->bind, l->url, sizeof l->url);
    return 0;
}

static int open_one(ctl_listener_t *l, const ctl_config_t *cfg, char *err, size_t errlen)
{
    int rc = 0;
    switch (l->bind.kind) {
    case CTL_BIND_TCP:
        rc = open_tcp(l, cfg->reuse_port, err, errlen);
        break;
    case CTL_BIND_UNIX:
        l->fd = ctl_listen_unix(l->bind.path, cfg->unix_socket_mode, &l->path_dev, &l->path_ino,
                                err, errlen);
        l->owns_path = l->fd >= 0;
        rc = l->fd < 0 ? l->fd : 0;
        break;
    case CTL_BIND_FD:
        return adopt(l, l->bind.fd, err, errlen);
    }
    if (rc == 0)
        ctl_bind_describe(&l->bind, l->url, sizeof l->url);
    return rc;
}

/* systemd socket activation: the passed sockets replace the addresses. */
static int open_systemd(ctl_listeners_t *ls, int count, char *err, size_t errlen)
{
    if (count > CTL_MAX_BINDS) {
        snprintf(err, errlen, "systemd passed %d sockets; at most %d are supported", count,
                 CTL_MAX_BINDS);
        return -EINVAL;
    }
    ls->from_systemd = true;
    for (int i = 0; i < count; i++) {
        ctl_listener_t *l = &ls->items[ls->n];
        memset(l, 0, sizeof *l);
        int rc = adopt(l, SYSTEMD_FIRST_FD + i, err, errlen);
        if (rc < 0)
            return rc;
        ls->n++;
    }
    return 0;
}

/* The addresses to bind: the -b list, after --host:--port when there is no
 * -b or when --host or --port was given too. */
static int address_list(const ctl_config_t *cfg, const char **specs, char *host_port, size_t len)
{
    int n = 0;
    if (cfg->nbind == 0 || ctl_options_was_set(cfg, "host") || ctl_options_was_set(cfg, "port")) {
        if (strchr(cfg->host, ':'))
            snprintf(host_port, len, "[%s]:%d", cfg->host, cfg->port);
        else
            snprintf(host_port, len, "%s:%d", cfg->host, cfg->port);
        specs[n++] = host_port;
    }
    for (int i = 0; i < cfg->nbind && n < CTL_MAX_BINDS; i++)
        specs[n++] = cfg->bind[i];
    return n;
}

static int open_addresses(ctl_listeners_t *ls, const ctl_config_t *cfg, char *err, size_t errlen)
{
    char host_port[300];
    const char *specs[CTL_MAX_BINDS];
    int n = address_list(cfg, specs, host_port, sizeof host_port);
    for (int i = 0; i < n; i++) {
        ctl_listener_t *l = &ls->items[ls->n];
        memset(l, 0, sizeof *l);
        l->fd = -1;
        if (ctl_bind_parse(specs[i], &l->bind, err, errlen) < 0)
            return -EINVAL;
        int rc = open_one(l, cfg, err, errlen);
        if (rc < 0)
            return rc;
        ls->n++;
    }
    return 0;
}

/* The listener's URL (an inherited socket's real address, say) says https. */
static void says_https(ctl_listener_t *l)
{
    size_t len = strlen(l->url);
    if (strncmp(l->url, "http://", 7) == 0 && len + 1 < sizeof l->url) {
        memmove(l->url + 5, l->url + 4, len - 4 + 1); /* "http" + "s" + "://..." */
        l->url[4] = 's';
    }
}

/* Which listeners serve TLS: those written https://; when none is, with
 * --certfile every listener but those written http:// and UNIX sockets
 * (a proxy on the same host speaks plain HTTP to those). */
static int choose_tls(ctl_listeners_t *ls, const ctl_config_t *cfg, char *err, size_t errlen)
{
    bool any_https = false;
    int ntls = 0;
    for (int i = 0; i < ls->n; i++)
        any_https |= ls->items[i].bind.tls;
    for (int i = 0; i < ls->n; i++) {
        ctl_listener_t *l = &ls->items[i];
        if (cfg->ncertfile > 0 && !any_https && !l->bind.scheme_given &&
            l->bind.kind != CTL_BIND_UNIX) {
            l->bind.tls = true;
            says_https(l);
        }
        ntls += l->bind.tls;
    }
    if (cfg->ncertfile > 0 && ntls == 0) {
        snprintf(err, errlen, "--certfile: no address serves TLS (use -b https://HOST:PORT)");
        return -EINVAL;
    }
    return 0;
}

int ctl_listeners_open(ctl_listeners_t *ls, const ctl_config_t *cfg, char *err, size_t errlen)
{
    memset(ls, 0, sizeof *ls);
    int activated = ctl_listen_systemd_count();
    int rc = activated > 0 ? open_systemd(ls, activated, err, errlen)
                           : open_addresses(ls, cfg, err, errlen);
    if (rc == 0)
        rc = choose_tls(ls, cfg, err, errlen);
    if (rc < 0)
        ctl_listeners_close(ls);
    return rc;
}

int ctl_listeners_for_slot(ctl_listeners_t *ls, int slot, int *fds, char *err, size_t errlen)
{
    for (int i = 0; i < ls->n; i++) {
        ctl_listener_t *l = &ls->items[i];
        fds[i] = l->per_slot ? ctl_reuseport_fd(&l->reuse, slot, err, errlen) : l->fd;
        if (fds[i] < 0)
            return fds[i];
    }
    return ls->n;
}

void ctl_listeners_shrink(ctl_listeners_t *ls, int nslots)
{
    for (int i = 0; i < ls->n; i++)
        if (ls->items[i].per_slot)
            ctl_reuseport_shrink(&ls->items[i].reuse, nslots);
}

int ctl_listeners_chown(ctl_listeners_t *ls, uid_t uid, gid_t gid, char *err, size_t errlen)
{
    for (int i = 0; i < ls->n; i++) {
        ctl_listener_t *l = &ls->items[i];
        if (l->owns_path && lchown(l->bind.path, uid, gid) < 0) {
            int e = errno;
            snprintf(err, errlen, "unix:%s: cannot give the socket to --chuid: %s", l->bind.path,
                     strerror(e));
            return -e;
        }
    }
    return 0;
}

void ctl_listeners_close(ctl_listeners_t *ls)
{
    for (int i = 0; i < ls->n; i++) {
        ctl_listener_t *l = &ls->items[i];
        if (l->per_slot)
            ctl_reuseport_free(&l->reuse);
        if (l->fd >= 0)
            close(l->fd);
        l->fd = -1;
        if (l->owns_path)
            ctl_listen_unlink_unix(l->bind.path, l->path_dev, l->path_ino);
        l->owns_path = false;
    }
    ls->n = 0;
}

int ctl_listeners_port(const ctl_listeners_t *ls)
{
    return ls->n > 0 ? ls->items[0].bind.port : 0;
}

const char *ctl_listeners_server_name(const ctl_listeners_t *ls)
{
    for (int i = 0; i < ls->n; i++)
        if (ls->items[i].bind.port > 0 && ls->items[i].bind.host[0])
            return ls->items[i].bind.host;
    return "localhost";
}

void ctl_listeners_describe(const ctl_listeners_t *ls, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < ls->n && used < len; i++) {
        int w = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", ls->items[i].url);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}
