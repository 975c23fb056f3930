/* ctl_daemon: see ctl_daemon.h. */
#include "ctl_daemon.h"

#include "cmn_log.h"
#include "cmn_logfile.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The report from the daemon to the process that was started: one byte,
 * REPORT_READY, or REPORT_FAILED followed by the error text up to EOF. */
#define REPORT_READY '0'
#define REPORT_FAILED '1'
#define REPORT_MAX 1024

/* The daemon's end of the report channel; -1 when not daemonized or once
 * reported. One per process by nature: a process detaches at most once. */
static int report_fd = -1;
static bool detached;

/* Sends all of buf without risking SIGPIPE when the other side is gone. */
static int send_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static int report(char kind, const char *message)
{
    if (report_fd < 0)
        return 0;
    char buf[REPORT_MAX];
    int n = snprintf(buf, sizeof buf, "%c%s", kind, message ? message : "");
    size_t len = n < 0 ? 1 : ((size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
    int rc = send_all(report_fd, buf, len);
    close(report_fd);
    report_fd = -1;
    return rc;
}

int ctl_daemon_ready(void) { return report(REPORT_READY, NULL); }

void ctl_daemon_fail(const char *message) { report(REPORT_FAILED, message); }

/* In the process that was started: waits for the daemon's report and exits
 * with it. A ready byte is acted on at once (the daemon keeps the socket);
 * a failure's text is read to EOF. */
__attribute__((noreturn)) static void wait_for_report(pid_t first_child, int fd)
{
    /* The intermediate process exits as soon as it has forked the daemon. */
    while (waitpid(first_child, NULL, 0) < 0 && errno == EINTR)
        ;
    char buf[REPORT_MAX];
    size_t len = 0;
    while (len < sizeof buf - 1) {
        ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
        if (buf[0] == REPORT_READY)
            _exit(0);
    }
    buf[len] = '\0';
    if (len > 0 && buf[0] == REPORT_FAILED)
        cmn_error("%s", buf + 1);
    else
        cmn_error("the daemon exited during start-up (see its log)");
    _exit(1);
}

/* Creating the log files up front turns a wrong path into an error on the
 * terminal, before anything is detached. */
static int check_log(const char *path, char *err, size_t errlen)
{
    if (!path)
        return 0;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "cannot open log file %s: %s", path, strerror(e));
        return -e;
    }
    close(fd);
    return 0;
}

/* In the daemon: stdin from /dev/null, stdout/stderr to the logs or to
 * /dev/null. Returns 0 or a negative errno. */
static int redirect_stdio(int devnull, const char *out, const char *errp)
{
    int rc = cmn_logfile_reopen(out, errp);
    if (rc < 0)
        return rc;
    if (dup2(devnull, STDIN_FILENO) < 0 || (!out && dup2(devnull, STDOUT_FILENO) < 0) ||
        (!errp && dup2(devnull, STDERR_FILENO) < 0))
        return -errno;
    return 0;
}

/* In the first child: a new session, then the daemon is forked from it so
 * that it is not a session leader. Only the daemon returns. */
static void become_daemon(int fd, int devnull, const char *out, const char *errp)
{
    char msg[256];
    report_fd = fd;
    if (setsid() < 0) {
        snprintf(msg, sizeof msg, "cannot daemonize: setsid: %s", strerror(errno));
        ctl_daemon_fail(msg);
        _exit(1);
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(msg, sizeof msg, "cannot daemonize: fork: %s", strerror(errno));
        ctl_daemon_fail(msg);
        _exit(1);
    }
    if (pid > 0)
        _exit(0);
    int rc = redirect_stdio(devnull, out, errp);
    close(devnull);
    if (rc < 0) {
        snprintf(msg, sizeof msg, "cannot daemonize: redirecting stdio: %s", strerror(-rc));
        ctl_daemon_fail(msg);
        _exit(1);
    }
}

int ctl_daemonize(const char *stdout_path, const char *stderr_path, char *err, size_t errlen)
{
    if (detached) {
        snprintf(err, errlen, "already daemonized");
        return -EALREADY;
    }
    int rc = check_log(stdout_path, err, errlen);
    if (rc == 0)
        rc = check_log(stderr_path, err, errlen);
    if (rc < 0)
        return rc;
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0) {
        rc = -errno;
        snprintf(err, errlen, "cannot daemonize: /dev/null: %s", strerror(-rc));
        return rc;
    }
    /* A socket rather than a pipe: send(MSG_NOSIGNAL) survives the started
     * process being killed. Close-on-exec, so that children the daemon
     * starts never hold it open. */
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        rc = -errno;
        close(devnull);
        snprintf(err, errlen, "cannot daemonize: socketpair: %s", strerror(-rc));
        return rc;
    }
    fflush(NULL); /* or buffered output would be written by two processes */
    pid_t pid = fork();
    if (pid < 0) {
        rc = -errno;
        close(sv[0]);
        close(sv[1]);
        close(devnull);
        snprintf(err, errlen, "cannot daemonize: fork: %s", strerror(-rc));
        return rc;
    }
    if (pid > 0) {
        close(sv[1]);
        close(devnull);
        wait_for_report(pid, sv[0]);
    }
    close(sv[0]);
    become_daemon(sv[1], devnull, stdout_path, stderr_path);
    detached = true;
    return 0;
}

/* Reads the pid a pidfile names. Returns 0, -EINVAL for content that is
 * not a positive number, or a negative errno (-ENOENT: no file). */
static int read_pid(const char *path, pid_t *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    char buf[32];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    int e = errno;
    close(fd);
    if (n < 0)
        return -e;
    buf[n] = '\0';
    char *end;
    errno = 0;
    long pid = strtol(buf, &end, 10);
    if (errno || end == buf || pid <= 0 || pid > INT_MAX || (*end && *end != '\n'))
        return -EINVAL;
    *out = (pid_t)pid;
    return 0;
}

/* EPERM means the process exists but belongs to someone else. */
static bool process_alive(pid_t pid) { return kill(pid, 0) == 0 || errno == EPERM; }

int ctl_pidfile_write(const char *path, char *err, size_t errlen)
{
    pid_t old;
    if (read_pid(path, &old) == 0 && old != getpid() && process_alive(old)) {
        snprintf(err, errlen, "pidfile %s names pid %d, which is still running", path, (int)old);
        return -EEXIST;
    }
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp) {
        snprintf(err, errlen, "pidfile path too long: %s", path);
        return -ENAMETOOLONG;
    }
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "cannot write pidfile %s: %s", path, strerror(e));
        return -e;
    }
    char line[32];
    int len = snprintf(line, sizeof line, "%d\n", (int)getpid());
    int rc = 0;
    errno = 0;
    /* mkostemp makes 0600; a pidfile is for everyone to read. */
    if (fchmod(fd, 0644) < 0 || write(fd, line, (size_t)len) != len)
        rc = errno ? -errno : -EIO;
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -errno;
    if (rc < 0) {
        unlink(tmp);
        snprintf(err, errlen, "cannot write pidfile %s: %s", path, strerror(-rc));
    }
    return rc;
}

void ctl_pidfile_remove(const char *path)
{
    pid_t pid;
    if (read_pid(path, &pid) == 0 && pid == getpid())
        unlink(path);
}

/* Who to become. */
typedef struct {
    uid_t uid;
    gid_t gid;
    bool have_gid;
    bool in_passwd;  /* initgroups() needs a passwd entry */
    char name[256];  /* the user's name, or the spec's text */
} identity_t;

/* A plain decimal id (no sign, no spaces). */
static bool parse_id(const char *s, unsigned long *out)
{
    if (!*s || strspn(s, "0123456789") != strlen(s))
        return false;
    errno = 0;
    *out = strtoul(s, NULL, 10);
    return errno == 0 && *out < (unsigned long)UINT_MAX;
}

/* Names first, so a user literally called "1000" wins over uid 1000. */
static int resolve_user(const char *user, identity_t *id, char *err, size_t errlen)
{
    unsigned long n;
    struct passwd *pw = getpwnam(user);
    if (!pw && parse_id(user, &n)) {
        pw = getpwuid((uid_t)n);
        if (!pw) {
            id->uid = (uid_t)n;
            snprintf(id->name, sizeof id->name, "%s", user);
            return 0;
        }
    }
    if (!pw) {
        snprintf(err, errlen, "unknown user '%s'", user);
        return -ENOENT;
    }
    id->uid = pw->pw_uid;
    id->gid = pw->pw_gid;
    id->have_gid = true;
    id->in_passwd = true;
    snprintf(id->name, sizeof id->name, "%s", pw->pw_name);
    return 0;
}

static int resolve_group(const char *group, identity_t *id, char *err, size_t errlen)
{
    unsigned long n;
    struct group *gr = getgrnam(group);
    if (gr) {
        id->gid = gr->gr_gid;
    } else if (parse_id(group, &n)) {
        id->gid = (gid_t)n;
    } else {
        snprintf(err, errlen, "unknown group '%s'", group);
        return -ENOENT;
    }
    id->have_gid = true;
    return 0;
}

/* Splits USER[:GROUP] and looks both up. */
static int resolve(const char *spec, identity_t *id, char *err, size_t errlen)
{
    char user[256];
    const char *colon = strchr(spec, ':');
    size_t ulen = colon ? (size_t)(colon - spec) : strlen(spec);
    if (ulen == 0 || ulen >= sizeof user || (colon && !colon[1])) {
        snprintf(err, errlen, "bad user '%s': expected USER or USER:GROUP", spec);
        return -EINVAL;
    }
    memcpy(user, spec, ulen);
    user[ulen] = '\0';
    int rc = resolve_user(user, id, err, errlen);
    if (rc == 0 && colon)
        rc = resolve_group(colon + 1, id, err, errlen);
    if (rc == 0 && !id->have_gid) {
        snprintf(err, errlen, "user id %s has no passwd entry: give USER:GROUP", user);
        rc = -EINVAL;
    }
    return rc;
}

static bool already(const identity_t *id)
{
    uid_t r, e, s;
    gid_t gr, ge, gs;
    return getresuid(&r, &e, &s) == 0 && getresgid(&gr, &ge, &gs) == 0 && r == id->uid &&
           e == id->uid && s == id->uid && gr == id->gid && ge == id->gid && gs == id->gid;
}

/* Once the real, effective and saved ids are all the target, an unprivileged
 * process has no way back; check anyway, as a wrong order would leave one. */
static bool can_regain_root(const identity_t *id)
{
    if (id->uid == 0)
        return false;
    return setuid(0) == 0 || seteuid(0) == 0 || !already(id);
}

int ctl_chuid_ids(const char *spec, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
    identity_t id = {0};
    int rc = resolve(spec, &id, err, errlen);
    if (rc == 0) {
        *uid = id.uid;
        *gid = id.gid;
    }
    return rc;
}

int ctl_drop_privileges(const char *spec, char *err, size_t errlen)
{
    identity_t id = {0};
    int rc = resolve(spec, &id, err, errlen);
    if (rc < 0)
        return rc;
    if (already(&id))
        return 0;
    const char *step = "setresgid";
    if (setresgid(id.gid, id.gid, id.gid) == 0) {
        step = id.in_passwd ? "initgroups" : "setgroups";
        if ((id.in_passwd ? initgroups(id.name, id.gid) : setgroups(1, &id.gid)) == 0) {
            step = "setresuid";
            if (setresuid(id.uid, id.uid, id.uid) == 0)
                step = NULL;
        }
    }
    if (step) {
        rc = -errno;
        snprintf(err, errlen, "cannot switch to user %s (uid %u, gid %u): %s: %s%s", id.name,
                 (unsigned)id.uid, (unsigned)id.gid, step, strerror(-rc),
                 rc == -EPERM ? " (only root can change user)" : "");
        return rc;
    }
    if (can_regain_root(&id)) {
        snprintf(err, errlen, "switched to user %s, but root can still be regained", id.name);
        return -EPERM;
    }
    return 0;
}
