/* Unit tests for controller/ctl_daemon.h. Everything that changes the
 * process for good (detaching, dropping root) runs in a forked child that
 * reports through its exit status or files; every wait has a deadline. */
#include "ctl_daemon.h"
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

static char dir[] = "/tmp/spawning-daemon.XXXXXX";

static void path_of(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", dir, name);
}

static const char *slurp(const char *path)
{
    static char buf[4096];
    buf[0] = '\0';
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return buf;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = '\0';
    close(fd);
    return buf;
}

static void spit(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ssize_t n = write(fd, text, strlen(text));
    (void)n;
    close(fd);
}

static void sleep_ms(int ms) { nanosleep(&(struct timespec){0, ms * 1000L * 1000L}, NULL); }

/* Runs fn in a forked child; returns its exit code, 128 + the signal that
 * killed it, or -1 (the child is killed) if it did not finish within
 * `seconds`. */
static int run_forked(int (*fn)(const void *), const void *arg, double seconds)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        _exit(fn(arg));
    for (int waited = 0; waited < seconds * 1000; waited += 5) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        sleep_ms(5);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

static bool wait_for_file(const char *path, double seconds)
{
    for (int waited = 0; waited < seconds * 1000; waited += 5) {
        if (access(path, F_OK) == 0)
            return true;
        sleep_ms(5);
    }
    return false;
}

static int count_entries(const char *path)
{
    DIR *d = opendir(path);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

/* ---- pidfile ---- */

TEST(pidfile_write_and_remove)
{
    char p[256], want[32], err[256] = "";
    path_of(p, sizeof p, "a.pid");
    snprintf(want, sizeof want, "%d\n", (int)getpid());
    CHECK_EQ_INT(ctl_pidfile_write(p, err, sizeof err), 0);
    CHECK_EQ_STR(slurp(p), want);
    struct stat st;
    CHECK_EQ_INT(stat(p, &st), 0);
    CHECK_EQ_INT(st.st_mode & 0777, 0644);
    CHECK_EQ_INT(count_entries(dir), 1); /* no temporary file left behind */
    CHECK_EQ_INT(ctl_pidfile_write(p, err, sizeof err), 0); /* our own pid: rewritten */
    CHECK_EQ_STR(slurp(p), want);
    ctl_pidfile_remove(p);
    CHECK(access(p, F_OK) < 0 && errno == ENOENT);
    ctl_pidfile_remove(p); /* already gone: fine */
}

TEST(pidfile_refuses_a_live_pid)
{
    char p[256], other[32], err[256] = "";
    path_of(p, sizeof p, "live.pid");
    snprintf(other, sizeof other, "%d\n", (int)getppid());
    spit(p, other);
    CHECK_EQ_INT(ctl_pidfile_write(p, err, sizeof err), -EEXIST);
    other[strlen(other) - 1] = '\0';
    CHECK(strstr(err, other) != NULL);
    CHECK(strstr(err, p) != NULL);
    ctl_pidfile_remove(p); /* not ours: kept */
    CHECK_EQ_INT(access(p, F_OK), 0);
    CHECK_EQ_INT(count_entries(dir), 1);
    unlink(p);
}

TEST(pidfile_replaces_a_stale_or_garbage_file)
{
    char p[256], stale[32], want[32], err[256] = "";
    path_of(p, sizeof p, "stale.pid");
    snprintf(want, sizeof want, "%d\n", (int)getpid());
    pid_t dead = fork();
    if (dead == 0)
        _exit(0);
    waitpid(dead, NULL, 0);
    snprintf(stale, sizeof stale, "%d\n", (int)dead);
    spit(p, stale);
    CHECK_EQ_INT(ctl_pidfile_write(p, err, sizeof err), 0);
    CHECK_EQ_STR(slurp(p), want);
    spit(p, "not a pid\n");
    CHECK_EQ_INT(ctl_pidfile_write(p, err, sizeof err), 0);
    CHECK_EQ_STR(slurp(p), want);
    spit(p, "");
    CHECK_EQ_INT(ctl_pidfile_write(p, err, sizeof err), 0);
    CHECK_EQ_STR(slurp(p), want);
    ctl_pidfile_remove(p);
    CHECK_EQ_INT(count_entries(dir), 0);
}

TEST(pidfile_in_a_missing_directory)
{
    char p[256], err[256] = "";
    path_of(p, sizeof p, "no/such/dir/x.pid");
    CHECK_EQ_INT(ctl_pidfile_write(p, err, sizeof err), -ENOENT);
    CHECK(strstr(err, p) != NULL);
}

/* ---- dropping privileges (we run as root; each case in a child) ---- */

/* Exit codes: 0 all good; N the first check that failed. */
typedef struct {
    const char *spec;
    uid_t uid;
    gid_t gid;
} drop_case_t;

static int drop_and_check(const void *arg)
{
    const drop_case_t *c = arg;
    char err[256];
    if (ctl_drop_privileges(c->spec, err, sizeof err) != 0)
        return 10;
    uid_t r, e, s;
    gid_t gr, ge, gs;
    getresuid(&r, &e, &s);
    getresgid(&gr, &ge, &gs);
    if (r != c->uid || e != c->uid || s != c->uid)
        return 11;
    if (gr != c->gid || ge != c->gid || gs != c->gid)
        return 12;
    if (setuid(0) == 0 || errno != EPERM || seteuid(0) == 0)
        return 13;
    gid_t groups[64];
    int n = getgroups(64, groups);
    for (int i = 0; i < n; i++)
        if (groups[i] == 0)
            return 14; /* root's group kept as a supplementary group */
    if (ctl_drop_privileges(c->spec, err, sizeof err) != 0)
        return 15; /* again: already there, so fine */
    return 0;
}

TEST(drop_to_nobody)
{
    if (getuid() != 0)
        return; /* needs root */
    drop_case_t c = {"nobody", 65534, 65534};
    CHECK_EQ_INT(run_forked(drop_and_check, &c, 5), 0);
}

TEST(drop_to_user_and_group)
{
    if (getuid() != 0)
        return;
    drop_case_t a = {"nobody:nogroup", 65534, 65534};
    CHECK_EQ_INT(run_forked(drop_and_check, &a, 5), 0);
    drop_case_t b = {"nobody:users", 65534, 100};
    CHECK_EQ_INT(run_forked(drop_and_check, &b, 5), 0);
    drop_case_t c = {"65534:100", 65534, 100}; /* numeric ids */
    CHECK_EQ_INT(run_forked(drop_and_check, &c, 5), 0);
    drop_case_t d = {"4242:4343", 4242, 4343}; /* ids with no passwd/group entry */
    CHECK_EQ_INT(run_forked(drop_and_check, &d, 5), 0);
}

static int drop_twice(const void *arg)
{
    char err[256] = "";
    if (ctl_drop_privileges("nobody", err, sizeof err) != 0)
        return 10;
    if (ctl_drop_privileges("daemon", err, sizeof err) != -EPERM)
        return 11;
    if (!strstr(err, "daemon") || !strstr(err, "not permitted"))
        return 12;
    return getuid() == 65534 ? 0 : 13;
}

TEST(drop_not_permitted)
{
    if (getuid() != 0)
        return;
    CHECK_EQ_INT(run_forked(drop_twice, NULL, 5), 0);
}

/* These fail before any id changes, so they run in the test process. */
TEST(drop_unknown_or_bad_spec)
{
    char err[256] = "";
    CHECK_EQ_INT(ctl_drop_privileges("no-such-user-zq", err, sizeof err), -ENOENT);
    CHECK(strstr(err, "unknown user 'no-such-user-zq'") != NULL);
    CHECK_EQ_INT(ctl_drop_privileges("nobody:no-such-group-zq", err, sizeof err), -ENOENT);
    CHECK(strstr(err, "unknown group 'no-such-group-zq'") != NULL);
    CHECK_EQ_INT(ctl_drop_privileges("4242", err, sizeof err), -EINVAL); /* no primary group */
    CHECK(strstr(err, "4242") != NULL);
    CHECK_EQ_INT(ctl_drop_privileges("", err, sizeof err), -EINVAL);
    CHECK_EQ_INT(ctl_drop_privileges(":users", err, sizeof err), -EINVAL);
    CHECK_EQ_INT(ctl_drop_privileges("nobody:", err, sizeof err), -EINVAL);
    CHECK_EQ_INT(getuid(), getuid()); /* still whoever we were */
}

/* ---- daemonizing ---- */

/* The detached daemons are re-parented to us (main makes this process a
 * subreaper), so reap them rather than leave zombies behind. */
static void reap_daemons(void)
{
    for (int waited = 0; waited < 2000; waited += 5) {
        pid_t pid = waitpid(-1, NULL, WNOHANG);
        if (pid < 0)
            return; /* ECHILD: none left */
        if (pid == 0)
            sleep_ms(5);
    }
}

typedef enum { DAEMON_READY, DAEMON_FAILS, DAEMON_DIES } daemon_mode_t;

/* What the daemon finds about itself, written to "marker" atomically. */
static void write_marker(void)
{
    struct stat null_st, in_st, err_st;
    stat("/dev/null", &null_st);
    fstat(STDIN_FILENO, &in_st);
    fstat(STDERR_FILENO, &err_st);
    int tty = open("/dev/tty", O_RDWR | O_NOCTTY);
    char text[256], tmp[256], marker[256];
    snprintf(text, sizeof text, "%d %d %d %d %d %d\n", (int)getpid(), (int)getsid(0),
             (int)getpgrp(), tty < 0, in_st.st_rdev == null_st.st_rdev,
             err_st.st_rdev == null_st.st_rdev);
    path_of(tmp, sizeof tmp, "marker.tmp");
    path_of(marker, sizeof marker, "marker");
    spit(tmp, text);
    rename(tmp, marker);
}

/* The process an init script would start: stderr to "started.err". */
static int started_process(const void *arg)
{
    daemon_mode_t mode = *(const daemon_mode_t *)arg;
    char out[256], errfile[256], err[256];
    path_of(out, sizeof out, "daemon.out");
    path_of(errfile, sizeof errfile, "started.err");
    int fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, STDERR_FILENO);
    close(fd);
    if (ctl_daemonize(out, NULL, err, sizeof err) != 0)
        return 3;
    /* the daemon from here on */
    if (mode == DAEMON_DIES)
        _exit(7);
    if (mode == DAEMON_FAILS) {
        ctl_daemon_fail("boom: the app cannot be imported");
        _exit(1);
    }
    printf("daemon stdout line\n");
    fflush(stdout);
    write_marker();
    ctl_daemon_ready();
    ctl_daemon_ready(); /* a second report is a no-op */
    _exit(0);
}

TEST(daemonize_detaches_and_reports_ready)
{
    char marker[256], out[256];
    path_of(marker, sizeof marker, "marker");
    path_of(out, sizeof out, "daemon.out");
    daemon_mode_t mode = DAEMON_READY;
    /* the started process exits 0 only after the daemon said ready */
    CHECK_EQ_INT(run_forked(started_process, &mode, 5), 0);
    CHECK(wait_for_file(marker, 2));
    int pid = 0, sid = 0, pgid = 0, no_tty = 0, in_null = 0, err_null = 0;
    CHECK_EQ_INT(sscanf(slurp(marker), "%d %d %d %d %d %d", &pid, &sid, &pgid, &no_tty,
                        &in_null, &err_null), 6);
    CHECK(pid > 0 && sid > 0);
    CHECK(sid != pid);           /* in a session, but not its leader */
    CHECK(sid != getsid(0));     /* a new session */
    CHECK_EQ_INT(pgid, sid);     /* the group of the intermediate session leader */
    CHECK_EQ_INT(no_tty, 1);     /* no controlling terminal */
    CHECK_EQ_INT(in_null, 1);    /* stdin is /dev/null */
    CHECK_EQ_INT(err_null, 1);   /* no stderr path: /dev/null */
    CHECK_EQ_STR(slurp(out), "daemon stdout line\n");
    unlink(marker);
    unlink(out);
    reap_daemons();
}

TEST(daemonize_reports_a_failure)
{
    char errfile[256];
    path_of(errfile, sizeof errfile, "started.err");
    daemon_mode_t mode = DAEMON_FAILS;
    CHECK_EQ_INT(run_forked(started_process, &mode, 5), 1);
    CHECK(strstr(slurp(errfile), "boom: the app cannot be imported") != NULL);
    mode = DAEMON_DIES;
    CHECK_EQ_INT(run_forked(started_process, &mode, 5), 1);
    CHECK(strstr(slurp(errfile), "exited during start-up") != NULL);
    reap_daemons();
    char out[256];
    path_of(out, sizeof out, "daemon.out"); /* created before detaching */
    unlink(out);
}

static int bad_log_path(const void *arg)
{
    char err[256] = "";
    int rc = ctl_daemonize("/nonexistent-dir-zq/out.log", NULL, err, sizeof err);
    if (rc != -ENOENT)
        return 10;
    return strstr(err, "/nonexistent-dir-zq/out.log") ? 0 : 11;
}

TEST(daemonize_bad_log_path_fails_before_detaching)
{
    CHECK_EQ_INT(run_forked(bad_log_path, NULL, 5), 0);
}

TEST(reports_without_daemonizing_are_no_ops)
{
    CHECK_EQ_INT(ctl_daemon_ready(), 0);
    ctl_daemon_fail("ignored");
}

int main(int argc, char **argv)
{
    unit_init(argc, argv);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(pidfile_write_and_remove);
    RUN(pidfile_refuses_a_live_pid);
    RUN(pidfile_replaces_a_stale_or_garbage_file);
    RUN(pidfile_in_a_missing_directory);
    RUN(drop_to_nobody);
    RUN(drop_to_user_and_group);
    RUN(drop_not_permitted);
    RUN(drop_unknown_or_bad_spec);
    RUN(daemonize_detaches_and_reports_ready);
    RUN(daemonize_reports_a_failure);
    RUN(daemonize_bad_log_path_fails_before_detaching);
    RUN(reports_without_daemonizing_are_no_ops);
    char p[256];
    path_of(p, sizeof p, "started.err");
    unlink(p);
    rmdir(dir);
    return unit_finish();
}
