/* ctl_servicesocks: the sockets of the controller's own services, spawnctl's
 * admin socket and the --status-port, bound at start beside the listeners.
 *
 * They are bound while the controller may still be root, before --chuid
 * drops it, for the same reasons as the listeners: a status port below 1024
 * works, and a socket file a root server left behind in /tmp (killed before
 * it could remove it) is replaced instead of refused, since a process that
 * dropped root can neither connect to it nor unlink it. The admin socket's
 * file is then given to the --chuid user, who removes it at exit. The
 * supervisor takes the descriptors over when it starts the services
 * (ctl_admin.h, ctl_statushttp.h). Controller thread only. */
#ifndef CTL_SERVICESOCKS_H
#define CTL_SERVICESOCKS_H

#include "ctl_listeners.h"
#include "ctl_options.h"

#include <stddef.h>
#include <sys/types.h>

typedef struct {
    int admin_fd;                           /* -1: none (--admin-socket none, or taken over) */
    char admin_path[512];                   /* where it is bound */
    unsigned long admin_dev, admin_ino;     /* its file, so only ours is removed */
    int status_fd;                          /* -1: no --status-port (or taken over) */
    char status_url[300];                   /* for the log: http://HOST:PORT */
} ctl_servicesocks_t;

/* Binds the admin socket (mode 0600; without --admin-socket named after the
 * first listener, cmn_admin.h) and the status port, as cfg asks. Returns 0,
 * or a negative errno with a sentence in err (nothing left open then). */
int ctl_servicesocks_open(ctl_servicesocks_t *s, const ctl_config_t *cfg,
                          const ctl_listeners_t *ls, char *err, size_t errlen);

/* Gives the admin socket's file to uid:gid (--chuid). Returns 0 or a
 * negative errno with err. */
int ctl_servicesocks_chown(const ctl_servicesocks_t *s, uid_t uid, gid_t gid, char *err,
                           size_t errlen);

/* Closes what was not taken over and removes the admin socket's file while
 * it is still ours. Idempotent. */
void ctl_servicesocks_close(ctl_servicesocks_t *s);

#endif
