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

/* Formats "http://HOST:PORT" (brackets around IPv6) into buf. */
void ctl_listen_url(const char *host, int port, char *buf, size_t len);

#endif
