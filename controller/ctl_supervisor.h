/* ctl_supervisor: the controller's main loop and its policy.
 *
 * Keeps `processes` children of the current generation serving: starts
 * them, hears "ready"/"fatal"/"pong"/"recycle"/"files" on their control
 * channels, restarts one that dies (at once when it had been serving, with
 * exponential back-off when children keep dying before they are ready), and
 * gives up with exit code 1 when the very first generation cannot start
 * (the app does not import), printing the child's traceback.
 *
 * Graceful reload (HUP, a source change under --reload=dev): a complete new
 * generation starts; only when all of it is ready is the old one drained
 * (bounded by --deadman-timeout, then killed). If the new generation fails
 * to start, it is abandoned and the old one keeps serving. Single children
 * are replaced the same way, one at a time (--max-memory, --max-age,
 * --max-requests, --timeout; see ctl_health.c).
 *
 * Signals only set libev flags; the loop acts:
 *   TERM      graceful stop: children finish in-flight requests, bounded by
 *             --deadman-timeout, then are killed; exit 0
 *   INT, QUIT immediate stop; exit 0
 *   HUP       graceful reload
 *   TTIN/TTOU one more / one fewer child
 *   USR1      reopen --stdout/--stderr (and tell the children to)
 * Runs on libev's default loop (ev_child needs it). */
#ifndef CTL_SUPERVISOR_H
#define CTL_SUPERVISOR_H

#include "ctl_listeners.h"
#include "ctl_options.h"
#include "ctl_servicesocks.h"

typedef struct ctl_supervisor ctl_supervisor_t;

/* Runs until stopped. `listeners` are the open sockets (kept open until the
 * stop begins, then closed); the services serve on `socks` (taken over, or
 * closed when they cannot start). Returns the process exit code. */
int ctl_supervisor_run(const ctl_config_t *cfg, ctl_listeners_t *listeners,
                       ctl_servicesocks_t *socks);

/* Graceful reload of every child. */
void ctl_supervisor_reload(ctl_supervisor_t *sup, const char *reason);

/* Reopens --stdout/--stderr here and in every child. */
void ctl_supervisor_reopen_logs(ctl_supervisor_t *sup);

/* Sets the number of children (>= 1). */
void ctl_supervisor_scale(ctl_supervisor_t *sup, int desired);

/* Stops: no more restarts, children are sent `signo`, SIGKILL after
 * `grace` seconds; the loop ends when the last child is reaped. */
void ctl_supervisor_stop(ctl_supervisor_t *sup, int signo, double grace);

#endif
