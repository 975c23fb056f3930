/* ctl_admin: the controller's admin socket, spoken to by spawnctl
 * (protocol in cmn_admin.h).
 *
 * A UNIX stream socket created with mode 0600 (bound under umask 077, so
 * it is never briefly open to others); each request's peer is checked with
 * SO_PEERCRED and only the controller's own uid or root is served. A stale
 * socket left by a dead controller is replaced; one in use by a live
 * controller is not (the start fails). */
#ifndef CTL_ADMIN_H
#define CTL_ADMIN_H

#include <stddef.h>

struct ctl_supervisor;

/* Binds `path` and starts answering on the supervisor's loop. Returns 0,
 * or a negative errno with a sentence in err. */
int ctl_admin_start(struct ctl_supervisor *sup, const char *path, char *err, size_t errlen);

/* Closes the socket and removes its file. */
void ctl_admin_stop(struct ctl_supervisor *sup, const char *path);

#endif
