/* ctl_daemon: process set-up for production -- detaching, the pidfile,
 * dropping root.
 *
 * Detaching reports back. The process the user (or an init script) started
 * does not exit when it forks: it waits on a socket until the daemon says
 * start-up went well (exit 0) or failed (its error text on stderr, exit 1),
 * so `spawning --daemon ... && echo up` means something. The call order in
 * the controller's main is:
 *
 *     parse options; bind the listening sockets          (errors: on the tty)
 *     ctl_daemonize(out, err_log, ...)                   (before any libev loop
 *                                                         and before any thread)
 *     ctl_pidfile_write(...)                             (from the daemon: its pid)
 *     ctl_drop_privileges(...)                           (after the pidfile,
 *                                                         sockets and logs opened)
 *     create the loop, start the first generation
 *     ctl_daemon_ready()            or ctl_daemon_fail(msg) then exit
 *
 * ctl_daemon_ready()/ctl_daemon_fail() do nothing when the process did not
 * daemonize, so main can call them unconditionally. */
#ifndef CTL_DAEMON_H
#define CTL_DAEMON_H

#include <stddef.h>
#include <sys/types.h>

/* Detaches: fork, setsid, fork again, so the daemon is in a new session but
 * not its leader and can never acquire a controlling terminal. stdin
 * becomes /dev/null; stdout and stderr go to the given files
 * (cmn_logfile_reopen) or to /dev/null when NULL. Does NOT chdir (the app's
 * relative imports depend on the cwd) and leaves the umask alone.
 *
 * Returns 0 in the daemon, which must later call ctl_daemon_ready() or
 * ctl_daemon_fail(). The original process never returns: it waits for that
 * report and exits 0 on "ready", or prints the error text to its stderr and
 * exits 1 on a failure or if the daemon dies first. Returns a negative
 * errno with err filled when nothing was detached: a log file cannot be
 * opened (checked before forking), fork failed, or already daemonized
 * (-EALREADY). stdio buffers are flushed before forking. */
int ctl_daemonize(const char *stdout_path, const char *stderr_path, char *err, size_t errlen);

/* In the daemon: start-up succeeded; the original process exits 0. Returns
 * 0 (also when not daemonized or already reported) or a negative errno when
 * the original process is gone (-EPIPE); the daemon carries on either way. */
int ctl_daemon_ready(void);

/* In the daemon: start-up failed; the original process prints `message`
 * (one line, no "error:" prefix needed) and exits 1. The caller then exits.
 * Does nothing when not daemonized or already reported. */
void ctl_daemon_fail(const char *message);

/* Writes "PID\n" (ours) to path atomically: a temporary file in the same
 * directory, renamed over it, so a reader never sees a half-written file.
 * Refuses with -EEXIST (err names the pid) when the file names a live
 * process other than us; a stale or unreadable-as-a-number file is
 * replaced. Returns 0 or a negative errno with err filled. Not a lock: two
 * instances started in the same instant can both succeed. */
int ctl_pidfile_write(const char *path, char *err, size_t errlen);

/* Removes path, but only if it still names our pid (a successor may have
 * written its own). Errors are ignored: called on the way out. */
void ctl_pidfile_remove(const char *path);

/* Becomes USER or USER:GROUP (names, or numeric ids): setgid, the
 * supplementary groups (initgroups for a known user, else just GROUP),
 * setuid -- in that order, real, effective and saved ids alike -- then
 * verifies that root cannot be regained. Without :GROUP the user's primary
 * group is used (a numeric uid with no passwd entry then needs :GROUP).
 * Already being exactly that user and group is success without any change
 * (so it also works when not started as root). Returns 0, or -ENOENT
 * (unknown user or group), -EINVAL (bad spec), -EPERM (not permitted,
 * or root could be regained), or another negative errno; err names what
 * failed. */
int ctl_drop_privileges(const char *spec, char *err, size_t errlen);

/* The uid and gid ctl_drop_privileges(spec) would switch to, without
 * switching. Returns 0 or a negative errno as ctl_drop_privileges does. */
int ctl_chuid_ids(const char *spec, uid_t *uid, gid_t *gid, char *err, size_t errlen);

#endif
