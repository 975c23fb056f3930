/* ctl_supervisor: the controller's main loop.
 *
 * Keeps `processes` children running: starts them, hears "ready" and
 * "fatal" on their control channels, restarts one that dies (at once when
 * it had been serving, with exponential back-off when children keep dying
 * before they are ready), and gives up with exit code 1 when the very first
 * generation cannot start (the app does not import), printing the child's
 * traceback. Signals only set libev flags; the loop acts:
 *   TERM      graceful stop: children finish in-flight requests, bounded by
 *             the graceful timeout, then are killed; exit 0
 *   INT, QUIT immediate stop: children are told to exit now; exit 0
 * Runs on libev's default loop (ev_child needs it). */
#ifndef CTL_SUPERVISOR_H
#define CTL_SUPERVISOR_H

#include "ctl_options.h"

/* Runs until stopped. listen_fd is the bound socket (kept open until the
 * stop begins), bound_port its port. Returns the process exit code. */
int ctl_supervisor_run(const ctl_config_t *cfg, int listen_fd, int bound_port);

#endif
