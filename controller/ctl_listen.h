/* ctl_listen: binding the listening sockets.
 *
 * The controller binds before any child exists and keeps the sockets open
 * for its whole life, so a restarting or reloading child never leaves the
 * port unbound. Sockets are created close-on-exec: they reach children only
 * over the control channel (SCM_RIGHTS), never by inheritance. */
#ifndef CTL_LISTEN_H
#define CTL_LISTEN_H

#include <stddef.h>

#define CTL_LISTEN_BACKLOG 1024

/* Binds and listens on host:port (IPv4 or IPv6 literal or a name). Returns
 * the non-blocking listening fd, or a negative errno with a sentence in err.
 * *bound_port receives the port actually bound (useful with port 0). */
int ctl_listen_tcp(const char *host, int port, int *bound_port, char *err, size_t errlen);

#define CTL_LISTEN_REUSEPORT 1 /* SO_REUSEPORT: one socket per child, the kernel balances */
#define CTL_LISTEN_NO_LISTEN 2 /* bind only: holds the port without taking connections */

/* ctl_listen_tcp with CTL_LISTEN_* flags. */
int ctl_listen_tcp_flags(const char *host, int port, int flags, int *bound_port, char *err,
                         size_t errlen);

/* Binds and listens on a UNIX stream socket at path with permissions
 * `mode`. The socket is created under a umask that leaves only `mode`, so
 * it is never reachable with wider permissions, not even for an instant. A
 * stale socket file (nobody accepts on it) is replaced; a live one, or a
 * path that is not a socket, is an error. On success *dev and *ino identify
 * the file, so that only this socket is removed later. Returns the
 * non-blocking fd or a negative errno with a sentence in err. */
int ctl_listen_unix(const char *path, int mode, unsigned long *dev, unsigned long *ino, char *err,
                    size_t errlen);

/* Removes the socket file at path if it is still the one identified by
 * dev/ino (a successor may have replaced it). */
void ctl_listen_unlink_unix(const char *path, unsigned long dev, unsigned long ino);

/* Takes an inherited socket (fd://N, systemd) as a listening socket: checks
 * that it is a stream socket, listens if it is only bound, makes it
 * non-blocking and close-on-exec. Returns fd or a negative errno with err. */
int ctl_listen_adopt(int fd, char *err, size_t errlen);

/* systemd socket activation: when LISTEN_PID is this process, returns the
 * number of sockets passed (fds 3, 4, ...) and removes LISTEN_PID,
 * LISTEN_FDS and LISTEN_FDNAMES from the environment, so the children do
 * not believe they were activated. Returns 0 when not activated. */
int ctl_listen_systemd_count(void);

/* What kind of socket fd is: fills host (the address, "" for a UNIX
 * socket; at least INET6_ADDRSTRLEN bytes), *tcp_port (0 for a UNIX socket)
 * and a "http://HOST:PORT" or "unix:PATH" description. Returns 0 or -errno. */
int ctl_listen_describe_fd(int fd, char *host, int *tcp_port, char *buf, size_t len);

/* Formats "http://HOST:PORT" (brackets around IPv6) into buf. */
void ctl_listen_url(const char *host, int port, char *buf, size_t len);

#endif
