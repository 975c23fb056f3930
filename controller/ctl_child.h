/* ctl_child: starting one spawning_child process.
 *
 * fork + exec of the child binary with a fresh SOCK_SEQPACKET socketpair as
 * its control channel (fd 3 in the child) and, when given, its counter page
 * (fd 4, CMN_STATSPAGE_CHILD_FD; see cmn_statspage.h). The first message on
 * the channel is the child's configuration with the listening sockets
 * attached (SCM_RIGHTS); nothing else is inherited. */
#ifndef CTL_CHILD_H
#define CTL_CHILD_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

/* The fd number the control channel has in the child. */
#define CTL_CHILD_CONTROL_FD 3

/* Path of spawning_child: $SPAWNING_CHILD if set, else the directory of the
 * running controller binary + "/spawning_child". Returns 0 or -errno. */
int ctl_child_binary_path(char *buf, size_t len);

/* Starts a child running `binary`, sends it `config` (borrowed) with
 * listen_fds attached; stats_fd (borrowed; -1: none) becomes the child's
 * fd 4 (config should say "stats_fd": 4 then). On success returns the pid
 * and stores the controller's end of the channel (non-blocking,
 * close-on-exec) in *control_fd; on failure returns a negative errno and
 * fills err. */
pid_t ctl_child_spawn(const char *binary, json_t *config, const int *listen_fds, int nfds,
                      int stats_fd, int *control_fd, char *err, size_t errlen);

/* ctl_child_spawn, with the child becoming USER[:GROUP] (--chuid) before
 * it execs: for a child started while the controller is still root (the
 * factory probe runs before binding), so the app's code never runs as
 * root. A child that cannot switch exits 127 with a line on stderr. */
pid_t ctl_child_spawn_as(const char *binary, json_t *config, const char *run_as,
                         int *control_fd, char *err, size_t errlen);

#endif
