/* cmn_logfile: see cmn_logfile.h. */
#include "cmn_logfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Opens a log file on an fd above 2. If fd 0, 1 or 2 happens to be closed,
 * open() would return it, and installing that fd with dup2 onto itself
 * would keep its close-on-exec flag and later be closed as a "temporary". */
static int open_log(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    if (fd > STDERR_FILENO)
        return fd;
    int high = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
    int e = errno;
    close(fd);
    return high < 0 ? -e : high;
}

/* dup2 clears close-on-exec on the target, which is what we want: children
 * inherit their log fds. EBUSY is a transient race with open() in another
 * thread on Linux; EINTR is retried for portability. */
static void install(int fd, int target)
{
    while (dup2(fd, target) < 0 && (errno == EINTR || errno == EBUSY))
        ;
}

int cmn_logfile_reopen(const char *stdout_path, const char *stderr_path)
{
    int out = -1, err = -1;
    if (stdout_path) {
        out = open_log(stdout_path);
        if (out < 0)
            return out;
    }
    if (stderr_path) {
        if (stdout_path && strcmp(stdout_path, stderr_path) == 0)
            err = out;
        else
            err = open_log(stderr_path);
        if (err < 0) {
            int e = err;
            if (out >= 0)
                close(out);
            return e;
        }
    }
    /* Lines still in stdio's buffers belong to the old file. */
    fflush(stdout);
    fflush(stderr);
    if (out >= 0)
        install(out, STDOUT_FILENO);
    if (err >= 0)
        install(err, STDERR_FILENO);
    if (out >= 0)
        close(out);
    if (err >= 0 && err != out)
        close(err);
    return 0;
}
