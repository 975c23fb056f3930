/* ctl_listen: see ctl_listen.h. */
#include "ctl_listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/un.h>
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

/* --- UNIX sockets --------------------------------------------------------- */

/* A socket file nobody accepts on any more (a crashed server's) may be
 * replaced; anything else at path may not. Returns 0 when path is free
 * (or now is), else a negative errno with err. */
static int clear_stale_socket(const char *path, const struct sockaddr_un *addr, char *err,
                              size_t errlen)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return 0;
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, errlen, "cannot listen on unix:%s: the path exists and is not a socket",
                 path);
        return -EEXIST;
    }
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe < 0)
        return -errno;
    int rc = connect(probe, (const struct sockaddr *)addr, sizeof *addr);
    int e = errno;
    close(probe);
    if (rc == 0) {
        snprintf(err, errlen, "cannot listen on unix:%s: another server is accepting on it", path);
        return -EADDRINUSE;
    }
    if (e != ECONNREFUSED) { /* EACCES: another user's socket file, in use or not */
        snprintf(err, errlen, "cannot listen on unix:%s: the socket file there cannot be probed: %s",
                 path, strerror(e));
        return -e;
    }
    unlink(path);
    return 0;
}

int ctl_listen_unix(const char *path, int mode, unsigned long *dev, unsigned long *ino, char *err,
                    size_t errlen)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof addr.sun_path) {
        snprintf(err, errlen, "cannot listen on unix:%s: the path is too long", path);
        return -ENAMETOOLONG;
    }
    memcpy(addr.sun_path, path, strlen(path) + 1);
    int rc = clear_stale_socket(path, &addr, err, errlen);
    if (rc < 0)
        return rc;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    mode_t old_umask = umask((mode_t)(~mode & 0777));
    rc = bind(fd, (struct sockaddr *)&addr, sizeof addr);
    int e = errno;
    umask(old_umask);
    struct stat st;
    if (rc < 0 || listen(fd, CTL_LISTEN_BACKLOG) < 0 || stat(path, &st) < 0) {
        if (rc == 0)
            e = errno, unlink(path);
        close(fd);
        snprintf(err, errlen, "cannot listen on unix:%s: %s", path, strerror(e));
        return -e;
    }
    *dev = (unsigned long)st.st_dev;
    *ino = (unsigned long)st.st_ino;
    return fd;
}

void ctl_listen_unlink_unix(const char *path, unsigned long dev, unsigned long ino)
{
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && (unsigned long)st.st_dev == dev &&
        (unsigned long)st.st_ino == ino)
        unlink(path);
}

/* --- inherited sockets ----------------------------------------------------- */

int ctl_listen_adopt(int fd, char *err, size_t errlen)
{
    int type = 0, listening = 0;
    socklen_t len = sizeof type;
    if (fcntl(fd, F_GETFD) < 0) {
        snprintf(err, errlen, "fd://%d: no such open descriptor", fd);
        return -EBADF;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM) {
        snprintf(err, errlen, "fd://%d: not a stream socket", fd);
        return -ENOTSOCK;
    }
    len = sizeof listening;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 ||
        (!listening && listen(fd, CTL_LISTEN_BACKLOG) < 0)) {
        snprintf(err, errlen, "fd://%d: cannot listen: %s", fd, strerror(errno));
        return -errno;
    }
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 ||
        fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
        snprintf(err, errlen, "fd://%d: %s", fd, strerror(errno));
        return -errno;
    }
    return fd;
}

int ctl_listen_systemd_count(void)
{
    const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
    int n = 0;
    if (pid && fds && strtol(pid, NULL, 10) == (long)getpid()) {
        long v = strtol(fds, NULL, 10);
        n = v > 0 && v < 4096 ? (int)v : 0;
    }
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    return n;
}

int ctl_listen_describe_fd(int fd, char *host, int *tcp_port, char *buf, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
        return -errno;
    host[0] = '\0';
    *tcp_port = 0;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &in->sin_addr, host, INET6_ADDRSTRLEN);
        *tcp_port = ntohs(in->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, INET6_ADDRSTRLEN);
        *tcp_port = ntohs(in6->sin6_port);
    } else if (ss.ss_family == AF_UNIX) {
        struct sockaddr_un *un = (struct sockaddr_un *)&ss;
        size_t plen = sl > offsetof(struct sockaddr_un, sun_path)
                          ? sl - offsetof(struct sockaddr_un, sun_path) : 0;
        snprintf(buf, len, "unix:%.*s", (int)strnlen(un->sun_path, plen), un->sun_path);
        return 0;
    } else {
        return -EAFNOSUPPORT;
    }
    ctl_listen_url(host, *tcp_port, buf, len);
    return 0;
}
