/* ctl_listen: see ctl_listen.h. */
#include "ctl_listen.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Creates, binds and listens on one resolved address. */
static int bind_one(const struct addrinfo *ai, int flags)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    ai->ai_protocol);
    if (fd < 0)
        return -errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if ((flags & CTL_LISTEN_REUSEPORT) &&
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    if (ai->ai_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    /* Wake the children only once a client has sent its request (a
     * connection that sends nothing is passed on after a few seconds). */
    int defer_seconds = 5;
    setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer_seconds, sizeof defer_seconds);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
        (!(flags & CTL_LISTEN_NO_LISTEN) && listen(fd, CTL_LISTEN_BACKLOG) < 0)) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

static int port_of(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -1;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

int ctl_listen_tcp(const char *host, int port, int *bound_port, char *err, size_t errlen)
{
    return ctl_listen_tcp_flags(host, port, 0, bound_port, err, errlen);
}

int ctl_listen_tcp_flags(const char *host, int port, int flags, int *bound_port, char *err,
                         size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(host, portstr, &hints, &res);
    if (gai != 0) {
        snprintf(err, errlen, "cannot resolve host '%s': %s", host, gai_strerror(gai));
        return -EINVAL;
    }
    int fd = -EADDRNOTAVAIL;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = bind_one(ai, flags);
        if (fd >= 0)
            break;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, errlen, "cannot listen on %s:%d: %s", host, port, strerror(-fd));
        return fd;
    }
    *bound_port = port_of(fd);
    return fd;
}

void ctl_listen_url(const char *host, int port, char *buf, size_t len)
{
    if (strchr(host, ':'))
        snprintf(buf, len, "http://[%s]:%d", host, port);
    else
        snprintf(buf, len, "http://%s:%d", host, port);
}
