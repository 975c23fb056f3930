/* ctl_listeners: every socket the server accepts on, and which of them a
 * child gets.
 *
 * Opened once at start, before any child exists, from (in this order of
 * preference) the sockets systemd passed (socket activation), the -b/--bind
 * addresses, or --host:--port. The controller keeps them open for its whole
 * life, so reloads and restarts never leave an address unbound. Each child
 * gets one descriptor per listener: the shared socket, or, with
 * --reuse-port on a TCP address, the SO_REUSEPORT socket of the child's
 * slot (ctl_reuseport.h). UNIX sockets and inherited sockets are always
 * shared (SO_REUSEPORT balancing is for TCP). UNIX socket files this
 * controller created are removed when it closes them. Controller thread
 * only. */
#ifndef CTL_LISTENERS_H
#define CTL_LISTENERS_H

#include "ctl_bind.h"
#include "ctl_options.h"
#include "ctl_reuseport.h"

#include <stdbool.h>
#include <sys/types.h>

typedef struct {
    ctl_bind_t bind;       /* what it is; TCP: the port actually bound */
    char url[300];         /* for logs and the status document */
    int fd;                /* shared socket; with per_slot, a bound socket that holds the port */
    bool per_slot;         /* --reuse-port on a TCP address */
    ctl_reuseport_t reuse; /* per_slot: one socket per child slot */
    bool owns_path;        /* a UNIX socket created here: removed on close */
    unsigned long path_dev, path_ino;
} ctl_listener_t;

typedef struct {
    ctl_listener_t items[CTL_MAX_BINDS];
    int n;
    bool from_systemd;
} ctl_listeners_t;

/* Opens every listener cfg asks for. Returns 0, or a negative errno with a
 * sentence in err (nothing is left open or created then). */
int ctl_listeners_open(ctl_listeners_t *ls, const ctl_config_t *cfg, char *err, size_t errlen);

/* The descriptors a child started for `slot` accepts on, one per listener,
 * into fds[0..ls->n) (still owned by ls). Returns ls->n or a negative errno
 * with err. */
int ctl_listeners_for_slot(ctl_listeners_t *ls, int slot, int *fds, char *err, size_t errlen);

/* Closes the per-slot sockets of slots >= nslots (scaling down). */
void ctl_listeners_shrink(ctl_listeners_t *ls, int nslots);

/* Gives the UNIX socket files created here to uid:gid (--chuid), so that
 * the user the server runs as owns them and a proxy in that group can
 * connect. Returns 0 or a negative errno with err. */
int ctl_listeners_chown(ctl_listeners_t *ls, uid_t uid, gid_t gid, char *err, size_t errlen);

/* Closes everything (removing UNIX socket files created here). Idempotent. */
void ctl_listeners_close(ctl_listeners_t *ls);

/* The first listener's TCP port, 0 when it is not TCP. */
int ctl_listeners_port(const ctl_listeners_t *ls);

/* SERVER_NAME for the children: the first TCP listener's host, else
 * "localhost". */
const char *ctl_listeners_server_name(const ctl_listeners_t *ls);

/* The listeners' URLs, comma-separated ("http://127.0.0.1:8080, unix:/run/a.sock"). */
void ctl_listeners_describe(const ctl_listeners_t *ls, char *buf, size_t len);

#endif
