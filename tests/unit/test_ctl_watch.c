/* Unit tests for controller/ctl_watch.h: a private libev loop, a temp
 * directory, real inotify. Every wait is bounded by a deadline timer. */
#include "ctl_watch.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#define DEBOUNCE 0.05
#define SLOW_DEBOUNCE 0.3  /* for the burst test: a loaded machine must not split it */
#define WAIT_FOR_CALL 0.5  /* beyond the debounce: plenty for the event to arrive */
#define WAIT_FOR_NONE 0.15 /* how long "no callback" is watched for */

static char dir[] = "/tmp/spawning-watch.XXXXXX";

typedef struct {
    int calls;
    char path[512];
    double at; /* ev_time() of the last call */
} seen_t;

static void on_change(void *arg, const char *path)
{
    seen_t *s = arg;
    s->calls++;
    s->at = ev_time();
    snprintf(s->path, sizeof s->path, "%s", path);
}

static void on_deadline(struct ev_loop *loop, ev_timer *t, int revents)
{
    *(bool *)t->data = true;
}

/* Runs the loop until `s` has seen `want` calls or `seconds` passed. */
static void run_until(struct ev_loop *loop, seen_t *s, int want, double seconds)
{
    bool expired = false;
    ev_timer deadline;
    ev_timer_init(&deadline, on_deadline, seconds, 0);
    deadline.data = &expired;
    ev_now_update(loop);
    ev_timer_start(loop, &deadline);
    while (!expired && s->calls < want)
        ev_run(loop, EVRUN_ONCE);
    ev_timer_stop(loop, &deadline);
}

/* Waits for exactly one callback, then makes sure no second one follows. */
static void expect_one_call_after(struct ev_loop *loop, seen_t *s, double debounce)
{
    run_until(loop, s, 1, debounce + WAIT_FOR_CALL);
    CHECK_EQ_INT(s->calls, 1);
    run_until(loop, s, 2, WAIT_FOR_NONE);
    CHECK_EQ_INT(s->calls, 1);
}

static void expect_one_call(struct ev_loop *loop, seen_t *s)
{
    expect_one_call_after(loop, s, DEBOUNCE);
}

static void path_of(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", dir, name);
}

static void write_file(const char *name, const char *text)
{
    char p[512];
    path_of(p, sizeof p, name);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return;
    ssize_t n = write(fd, text, strlen(text));
    (void)n;
    close(fd);
}

/* A fresh loop and watcher over a.py .. e.py (created here). */
typedef struct {
    struct ev_loop *loop;
    ctl_watch_t *w;
    seen_t seen;
} fixture_t;

static void setup_with(fixture_t *fx, double debounce)
{
    memset(fx, 0, sizeof *fx);
    fx->loop = ev_loop_new(EVFLAG_AUTO);
    char err[256] = "";
    fx->w = ctl_watch_new(fx->loop, debounce, on_change, &fx->seen, err, sizeof err);
    CHECK(fx->w != NULL);
    const char *names[] = {"a.py", "b.py", "c.py", "d.py", "e.py"};
    for (int i = 0; i < 5; i++)
        write_file(names[i], "x = 1\n"); /* all before the first watch */
    for (int i = 0; i < 5; i++) {
        char p[512];
        path_of(p, sizeof p, names[i]);
        CHECK_EQ_INT(ctl_watch_add(fx->w, p), 0);
    }
    CHECK_EQ_INT(ctl_watch_count(fx->w), 5);
    /* the set-up writes happened before the watches: nothing pending */
    run_until(fx->loop, &fx->seen, 1, 2 * DEBOUNCE);
    CHECK_EQ_INT(fx->seen.calls, 0);
}

static void setup(fixture_t *fx) { setup_with(fx, DEBOUNCE); }

static void teardown(fixture_t *fx)
{
    ctl_watch_free(fx->w);
    ev_loop_destroy(fx->loop);
}

TEST(in_place_write_calls_back_once)
{
    fixture_t fx;
    setup(&fx);
    char want[512];
    path_of(want, sizeof want, "c.py");
    write_file("c.py", "x = 2\n");
    expect_one_call(fx.loop, &fx.seen);
    CHECK_EQ_STR(fx.seen.path, want);
    teardown(&fx);
}

TEST(burst_of_five_is_one_call)
{
    fixture_t fx;
    setup_with(&fx, SLOW_DEBOUNCE);
    const char *names[] = {"a.py", "b.py", "c.py", "d.py", "e.py"};
    for (int i = 0; i < 5; i++) {
        write_file(names[i], "x = 3\n");
        nanosleep(&(struct timespec){0, 5 * 1000 * 1000}, NULL); /* well under the debounce */
    }
    double last_write = ev_time();
    expect_one_call_after(fx.loop, &fx.seen, SLOW_DEBOUNCE);
    CHECK(fx.seen.at - last_write >= SLOW_DEBOUNCE - 0.01); /* after the burst, not during */
    char want[512];
    path_of(want, sizeof want, "a.py"); /* the burst's first change */
    CHECK_EQ_STR(fx.seen.path, want);
    teardown(&fx);
}

TEST(rename_over_calls_back)
{
    fixture_t fx;
    setup(&fx);
    char tmp[512], target[512];
    path_of(tmp, sizeof tmp, ".b.py.swp");
    path_of(target, sizeof target, "b.py");
    write_file(".b.py.swp", "x = 4\n");
    CHECK_EQ_INT(rename(tmp, target), 0);
    expect_one_call(fx.loop, &fx.seen);
    CHECK_EQ_STR(fx.seen.path, target);
    /* the watch survives the replaced inode: the next save is seen too */
    write_file(".b.py.swp", "x = 5\n");
    CHECK_EQ_INT(rename(tmp, target), 0);
    run_until(fx.loop, &fx.seen, 2, WAIT_FOR_CALL);
    CHECK_EQ_INT(fx.seen.calls, 2);
    teardown(&fx);
}

TEST(delete_and_recreate_calls_back)
{
    fixture_t fx;
    setup(&fx);
    char p[512];
    path_of(p, sizeof p, "d.py");
    CHECK_EQ_INT(unlink(p), 0);
    write_file("d.py", "x = 6\n");
    expect_one_call(fx.loop, &fx.seen);
    CHECK_EQ_STR(fx.seen.path, p);
    teardown(&fx);
}

TEST(touch_calls_back)
{
    fixture_t fx;
    setup(&fx);
    char p[512];
    path_of(p, sizeof p, "e.py");
    CHECK_EQ_INT(utimensat(AT_FDCWD, p, NULL, 0), 0);
    expect_one_call(fx.loop, &fx.seen);
    teardown(&fx);
}

TEST(unwatched_files_are_ignored)
{
    fixture_t fx;
    setup(&fx);
    char tmp[512], other[512];
    write_file("notes.txt", "hello\n");
    write_file("a.pyc", "bytes\n");
    write_file("a.py~", "backup\n");
    path_of(tmp, sizeof tmp, "notes.txt");
    path_of(other, sizeof other, "notes2.txt");
    CHECK_EQ_INT(rename(tmp, other), 0);
    CHECK_EQ_INT(unlink(other), 0);
    run_until(fx.loop, &fx.seen, 1, WAIT_FOR_NONE);
    CHECK_EQ_INT(fx.seen.calls, 0);
    path_of(tmp, sizeof tmp, "a.pyc");
    unlink(tmp);
    path_of(tmp, sizeof tmp, "a.py~");
    unlink(tmp);
    teardown(&fx);
}

TEST(add_errors_and_idempotence)
{
    fixture_t fx;
    setup(&fx);
    char p[512];
    path_of(p, sizeof p, "missing.py");
    CHECK_EQ_INT(ctl_watch_add(fx.w, p), -ENOENT);
    path_of(p, sizeof p, "no/such/dir/x.py");
    CHECK_EQ_INT(ctl_watch_add(fx.w, p), -ENOENT);
    CHECK_EQ_INT(ctl_watch_add(fx.w, dir), -EINVAL); /* a directory */
    path_of(p, sizeof p, "a.py");
    CHECK_EQ_INT(ctl_watch_add(fx.w, p), 0);
    path_of(p, sizeof p, "./a.py"); /* another spelling, same directory and name */
    CHECK_EQ_INT(ctl_watch_add(fx.w, p), 0);
    CHECK_EQ_INT(ctl_watch_count(fx.w), 5);
    teardown(&fx);
}

TEST(relative_path_is_reported_as_given)
{
    fixture_t fx;
    setup(&fx);
    char cwd[512];
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    CHECK_EQ_INT(chdir(dir), 0);
    write_file("rel.py", "x = 7\n");
    CHECK_EQ_INT(ctl_watch_add(fx.w, "rel.py"), 0);
    CHECK_EQ_INT(ctl_watch_count(fx.w), 6);
    write_file("rel.py", "x = 8\n");
    expect_one_call(fx.loop, &fx.seen);
    CHECK_EQ_STR(fx.seen.path, "rel.py");
    CHECK_EQ_INT(chdir(cwd), 0);
    char p[512];
    path_of(p, sizeof p, "rel.py");
    unlink(p);
    teardown(&fx);
}

/* Many files over many directories: the shape of a Django project. */
TEST(thousands_of_files)
{
    fixture_t fx;
    setup(&fx);
    char p[512];
    int ok = 0;
    for (int d = 0; d < 40; d++) {
        snprintf(p, sizeof p, "%s/pkg%d", dir, d);
        mkdir(p, 0755);
        for (int f = 0; f < 50; f++) {
            char name[64];
            snprintf(name, sizeof name, "pkg%d/mod%d.py", d, f);
            write_file(name, "");
        }
    }
    for (int d = 0; d < 40; d++) {
        for (int f = 0; f < 50; f++) {
            char name[64];
            snprintf(name, sizeof name, "pkg%d/mod%d.py", d, f);
            path_of(p, sizeof p, name);
            ok += ctl_watch_add(fx.w, p) == 0;
        }
    }
    CHECK_EQ_INT(ok, 2000);
    CHECK_EQ_INT(ctl_watch_count(fx.w), 2005);
    write_file("pkg39/mod49.py", "changed = True\n");
    write_file("pkg39/unregistered.py", "");
    expect_one_call(fx.loop, &fx.seen);
    path_of(p, sizeof p, "pkg39/mod49.py");
    CHECK_EQ_STR(fx.seen.path, p);
    teardown(&fx);
    for (int d = 0; d < 40; d++) {
        for (int f = 0; f < 50; f++) {
            snprintf(p, sizeof p, "%s/pkg%d/mod%d.py", dir, d, f);
            unlink(p);
        }
        snprintf(p, sizeof p, "%s/pkg%d/unregistered.py", dir, d);
        unlink(p);
        snprintf(p, sizeof p, "%s/pkg%d", dir, d);
        rmdir(p);
    }
}

TEST(deleted_directory_calls_back_and_forgets)
{
    fixture_t fx;
    setup(&fx);
    char sub[512], p[512];
    path_of(sub, sizeof sub, "gone");
    CHECK_EQ_INT(mkdir(sub, 0755), 0);
    write_file("gone/m.py", "");
    path_of(p, sizeof p, "gone/m.py");
    CHECK_EQ_INT(ctl_watch_add(fx.w, p), 0);
    CHECK_EQ_INT(ctl_watch_count(fx.w), 6);
    CHECK_EQ_INT(unlink(p), 0);
    CHECK_EQ_INT(rmdir(sub), 0);
    expect_one_call(fx.loop, &fx.seen);
    CHECK_EQ_STR(fx.seen.path, p);
    CHECK_EQ_INT(ctl_watch_count(fx.w), 5); /* its watch is gone */
    teardown(&fx);
}

static void free_in_callback(void *arg, const char *path)
{
    fixture_t *fx = arg;
    fx->seen.calls++;
    ctl_watch_free(fx->w);
    fx->w = NULL;
}

TEST(callback_may_free_the_watcher)
{
    fixture_t fx;
    setup(&fx);
    ctl_watch_free(fx.w);
    char err[256], p[512];
    fx.w = ctl_watch_new(fx.loop, DEBOUNCE, free_in_callback, &fx, err, sizeof err);
    path_of(p, sizeof p, "a.py");
    CHECK_EQ_INT(ctl_watch_add(fx.w, p), 0);
    write_file("a.py", "x = 9\n");
    run_until(fx.loop, &fx.seen, 1, WAIT_FOR_CALL);
    CHECK_EQ_INT(fx.seen.calls, 1);
    CHECK(fx.w == NULL);
    teardown(&fx);
}

TEST(free_with_a_pending_burst_drops_it)
{
    fixture_t fx;
    setup(&fx);
    write_file("a.py", "x = 10\n");
    ev_run(fx.loop, EVRUN_NOWAIT); /* reads the event, arms the timer */
    teardown(&fx);                 /* must not leak nor call back */
    CHECK_EQ_INT(fx.seen.calls, 0);
}

int main(int argc, char **argv)
{
    unit_init(argc, argv);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(in_place_write_calls_back_once);
    RUN(burst_of_five_is_one_call);
    RUN(rename_over_calls_back);
    RUN(delete_and_recreate_calls_back);
    RUN(touch_calls_back);
    RUN(unwatched_files_are_ignored);
    RUN(add_errors_and_idempotence);
    RUN(relative_path_is_reported_as_given);
    RUN(thousands_of_files);
    RUN(deleted_directory_calls_back_and_forgets);
    RUN(callback_may_free_the_watcher);
    RUN(free_with_a_pending_burst_drops_it);
    const char *names[] = {"a.py", "b.py", "c.py", "d.py", "e.py", ".b.py.swp"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char p[512];
        path_of(p, sizeof p, names[i]);
        unlink(p);
    }
    rmdir(dir);
    return unit_finish();
}
