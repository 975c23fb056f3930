/* ctl_child: see ctl_child.h. */
#include "ctl_child.h"

#include "cmn_ctlmsg.h"
#include "cmn_statspage.h"
#include "ctl_daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int ctl_child_binary_path(char *buf, size_t len)
{
    const char *env = getenv("SPAWNING_CHILD");
    if (env && *env) {
        snprintf(buf, len, "%s", env);
        return 0;
    }
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0)
        return -errno;
    self[n] = '\0';
    snprintf(buf, len, "%s/spawning_child", dirname(self));
    return 0;
}

/* In the forked process: puts fd on number `target`, inherited by the
 * exec (dup2 clears close-on-exec). */
static void place_fd(int fd, int target)
{
    if (dup2(fd, target) < 0)
        _exit(127);
}

/* Runs in the forked process: becomes spawning_child (as run_as, when
 * given) or dies trying. */
static void exec_child(const char *binary, int channel, int stats_fd, const char *run_as)
{
    char why[512];
    if (run_as && ctl_drop_privileges(run_as, why, sizeof why) < 0) {
        dprintf(STDERR_FILENO, "spawning: %s\n", why);
        _exit(127);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL); /* libev may have blocked some */
    /* Out of the way first: either may sit on the other's target. */
    channel = fcntl(channel, F_DUPFD_CLOEXEC, 10);
    stats_fd = stats_fd >= 0 ? fcntl(stats_fd, F_DUPFD_CLOEXEC, 10) : -1;
    if (channel < 0)
        _exit(127);
    place_fd(channel, CTL_CHILD_CONTROL_FD);
    if (stats_fd >= 0)
        place_fd(stats_fd, CMN_STATSPAGE_CHILD_FD);
    char fdarg[16];
    snprintf(fdarg, sizeof fdarg, "%d", CTL_CHILD_CONTROL_FD);
    char *const argv[] = {(char *)"spawning_child", (char *)"--control-fd", fdarg, NULL};
    execv(binary, argv);
    dprintf(STDERR_FILENO, "spawning: cannot run %s: %s\n", binary, strerror(errno));
    _exit(127);
}

static pid_t spawn(const char *binary, json_t *config, const int *listen_fds, int nfds,
                   int stats_fd, const char *run_as, int *control_fd, char *err, size_t errlen)
{
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
        int e = errno;
        snprintf(err, errlen, "socketpair: %s", strerror(e));
        return -e;
    }
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        snprintf(err, errlen, "fork: %s", strerror(e));
        close(pair[0]);
        close(pair[1]);
        return -e;
    }
    if (pid == 0) {
        close(pair[0]);
        exec_child(binary, pair[1], stats_fd, run_as);
    }
    close(pair[1]);
    /* The socket buffer holds the message until the child reads it. */
    int rc = cmn_ctlmsg_send(pair[0], config, listen_fds, nfds);
    if (rc < 0) {
        snprintf(err, errlen, "sending the configuration: %s", strerror(-rc));
        kill(pid, SIGKILL);
        close(pair[0]);
        return rc;
    }
    fcntl(pair[0], F_SETFL, fcntl(pair[0], F_GETFL) | O_NONBLOCK);
    *control_fd = pair[0];
    return pid;
}

pid_t ctl_child_spawn(const char *binary, json_t *config, const int *listen_fds, int nfds,
                      int stats_fd, int *control_fd, char *err, size_t errlen)
{
    return spawn(binary, config, listen_fds, nfds, stats_fd, NULL, control_fd, err, errlen);
}

pid_t ctl_child_spawn_as(const char *binary, json_t *config, const char *run_as,
                         int *control_fd, char *err, size_t errlen)
{
    return spawn(binary, config, NULL, 0, -1, run_as, control_fd, err, errlen);
}
