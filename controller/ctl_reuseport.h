/* ctl_reuseport: the SO_REUSEPORT listening sockets of --reuse-port.
 *
 * One socket per child slot (slot i is "the i-th child"), all bound to the
 * same address and port, so the kernel spreads new connections over them.
 * The controller holds every socket for as long as its slot exists and
 * hands a copy to each child started for that slot: a reload or the
 * replacement of one child starts the successor on the same socket, so a
 * socket never closes while connections are queued on it (closing a
 * listening socket resets them, unless net.ipv4.tcp_migrate_req=1). Only
 * scaling down retires a slot's socket. Controller thread only. */
#ifndef CTL_REUSEPORT_H
#define CTL_REUSEPORT_H

#include <stddef.h>

typedef struct ctl_reuseport {
    const char *host;
    int port;
    int *fds; /* fds[slot], -1 where none is open yet */
    int nslots;
} ctl_reuseport_t;

/* An empty pool for host:port (the port already held by the controller). */
void ctl_reuseport_init(ctl_reuseport_t *pool, const char *host, int port);

/* The listening socket of `slot`, created on first use. Returns the fd
 * (still owned by the pool) or a negative errno with a sentence in err. */
int ctl_reuseport_fd(ctl_reuseport_t *pool, int slot, char *err, size_t errlen);

/* Closes the sockets of slots >= nslots (scaling down). */
void ctl_reuseport_shrink(ctl_reuseport_t *pool, int nslots);

/* Closes every socket and frees the pool's memory. */
void ctl_reuseport_free(ctl_reuseport_t *pool);

#endif
