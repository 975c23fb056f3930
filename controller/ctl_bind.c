/* ctl_bind: see ctl_bind.h. */
#include "ctl_bind.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bad(const char *spec, char *err, size_t errlen)
{
    snprintf(err, errlen,
             "'%s' is not HOST:PORT, [IPV6]:PORT, https://HOST:PORT, unix:PATH or fd://N", spec);
    return -EINVAL;
}

/* A whole decimal number in [lo, hi]. */
static int parse_number(const char *s, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi || *s == '+' || *s == '-')
        return -EINVAL;
    *out = (int)v;
    return 0;
}

static int parse_unix(const char *spec, const char *path, ctl_bind_t *out, char *err,
                      size_t errlen)
{
    if (!*path)
        return bad(spec, err, errlen);
    if (strlen(path) >= sizeof out->path) {
        snprintf(err, errlen, "'%s': a UNIX socket path is at most %zu bytes", spec,
                 sizeof out->path - 1);
        return -EINVAL;
    }
    out->kind = CTL_BIND_UNIX;
    snprintf(out->path, sizeof out->path, "%s", path);
    return 0;
}

static int parse_tcp(const char *spec, ctl_bind_t *out, char *err, size_t errlen)
{
    const char *colon;
    size_t host_len;
    const char *host = spec;
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        if (!close || close[1] != ':')
            return bad(spec, err, errlen);
        host = spec + 1;
        host_len = (size_t)(close - host);
        colon = close + 1;
        if (host_len == 0 || !memchr(host, ':', host_len))
            return bad(spec, err, errlen);
    } else {
        colon = strrchr(spec, ':');
        if (!colon || memchr(spec, ':', (size_t)(colon - spec)))
            return bad(spec, err, errlen); /* no port, or an IPv6 address without brackets */
        host_len = (size_t)(colon - spec);
    }
    if (host_len >= sizeof out->host || parse_number(colon + 1, 0, 65535, &out->port) < 0)
        return bad(spec, err, errlen);
    out->kind = CTL_BIND_TCP;
    if (host_len == 0)
        snprintf(out->host, sizeof out->host, "0.0.0.0");
    else
        snprintf(out->host, sizeof out->host, "%.*s", (int)host_len, host);
    return 0;
}

int ctl_bind_parse(const char *spec, ctl_bind_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->fd = -1;
    if (strncmp(spec, "unix://", 7) == 0)
        return parse_unix(spec, spec + 7, out, err, errlen);
    if (strncmp(spec, "unix:", 5) == 0)
        return parse_unix(spec, spec + 5, out, err, errlen);
    if (strncmp(spec, "fd://", 5) == 0) {
        if (parse_number(spec + 5, 0, 1 << 20, &out->fd) < 0)
            return bad(spec, err, errlen);
        out->kind = CTL_BIND_FD;
        return 0;
    }
    const char *address = spec;
    if (strncmp(spec, "https://", 8) == 0 || strncmp(spec, "http://", 7) == 0) {
        out->tls = spec[4] == 's';
        out->scheme_given = true;
        address = spec + (out->tls ? 8 : 7);
    }
    if (parse_tcp(address, out, err, errlen) < 0)
        return bad(spec, err, errlen);
    return 0;
}

void ctl_bind_describe(const ctl_bind_t *b, char *buf, size_t len)
{
    switch (b->kind) {
    case CTL_BIND_TCP:
        if (strchr(b->host, ':'))
            snprintf(buf, len, "%s://[%s]:%d", b->tls ? "https" : "http", b->host, b->port);
        else
            snprintf(buf, len, "%s://%s:%d", b->tls ? "https" : "http", b->host, b->port);
        break;
    case CTL_BIND_UNIX:
        snprintf(buf, len, "unix:%s", b->path);
        break;
    case CTL_BIND_FD:
        snprintf(buf, len, "fd://%d", b->fd);
        break;
    }
}
