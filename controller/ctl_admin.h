/* ctl_admin: the controller's admin socket, spoken to by spawnctl
 * (protocol in cmn_admin.h).
 *
 * A UNIX stream socket bound at start with mode 0600 (ctl_servicesocks.h:
 * under umask 077, so it is never briefly open to others; a stale socket
 * left by a dead controller is replaced, one in use by a live controller is
 * not). Each request's peer is checked with SO_PEERCRED and only the
 * controller's own uid or root is served. It sees the supervisor only
 * through its operations table (ctl_ops.h). */
#ifndef CTL_ADMIN_H
#define CTL_ADMIN_H

#include "ctl_ops.h"
#include "ctl_servicesocks.h"

#include <ev.h>
#include <stddef.h>

typedef struct ctl_admin ctl_admin_t;

/* Answers on socks' admin socket (taken over: socks->admin_fd becomes -1)
 * in `loop`, carrying out commands through `ops` (copied). Returns the
 * service, or NULL with a sentence in err (the socket left to socks). */
ctl_admin_t *ctl_admin_start(struct ev_loop *loop, ctl_servicesocks_t *socks,
                             const ctl_ops_t *ops, char *err, size_t errlen);

/* Closes the socket, removes its file (if still ours) and frees admin
 * (NULL: nothing). */
void ctl_admin_stop(ctl_admin_t *admin);

#endif
