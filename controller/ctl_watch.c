/* ctl_watch: see ctl_watch.h. */
#include "ctl_watch.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

/* Events on a watched directory that can mean "a registered file changed".
 * IN_CLOSE_WRITE rather than IN_MODIFY: a file written in place is seen
 * once, when the writer is done, not at every write(). */
#define DIR_EVENTS                                                                                 \
    (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB |           \
     IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

/* Events about the directory itself: every file in it may have changed. */
#define SELF_EVENTS (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED | IN_UNMOUNT)

#define OVERFLOW_PATH "(inotify queue overflow)"
#define INITIAL_BUCKETS 64

/* One registered file: its directory's watch descriptor and its name there
 * (`name` points into `path`, which is the caller's spelling). */
typedef struct watch_file {
    struct watch_file *next;
    int wd;
    uint32_t hash;
    const char *name;
    char path[];
} watch_file_t;

struct ctl_watch {
    struct ev_loop *loop;
    ev_io io;
    ev_timer timer;
    double debounce;
    ctl_watch_cb on_change;
    void *arg;
    int fd;
    watch_file_t **buckets; /* chained hash on (wd, name) */
    size_t nbuckets;        /* a power of two */
    int count;
    bool pending;           /* a burst is being debounced */
    char pending_path[PATH_MAX];
};

/* FNV-1a over the name, seeded with the watch descriptor. */
static uint32_t hash_of(int wd, const char *name)
{
    uint32_t h = 2166136261u ^ (uint32_t)wd;
    h *= 16777619u;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        h ^= *p;
        h *= 16777619u;
    }
    return h;
}

static watch_file_t *lookup(const ctl_watch_t *w, int wd, const char *name)
{
    uint32_t h = hash_of(wd, name);
    for (watch_file_t *f = w->buckets[h & (w->nbuckets - 1)]; f; f = f->next)
        if (f->hash == h && f->wd == wd && strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

/* Doubles the table once it is as full as it is wide (chains stay ~1). */
static int grow(ctl_watch_t *w)
{
    size_t n = w->nbuckets * 2;
    watch_file_t **b = calloc(n, sizeof *b);
    if (!b)
        return -ENOMEM;
    for (size_t i = 0; i < w->nbuckets; i++) {
        watch_file_t *f = w->buckets[i];
        while (f) {
            watch_file_t *next = f->next;
            f->next = b[f->hash & (n - 1)];
            b[f->hash & (n - 1)] = f;
            f = next;
        }
    }
    free(w->buckets);
    w->buckets = b;
    w->nbuckets = n;
    return 0;
}

/* Records one change of the current burst and (re)starts the debounce
 * timer, so the callback runs `debounce` after the burst's last event. */
static void note_change(ctl_watch_t *w, const char *path)
{
    if (!w->pending) {
        snprintf(w->pending_path, sizeof w->pending_path, "%s", path);
        w->pending = true;
    }
    w->timer.repeat = w->debounce;
    ev_timer_again(w->loop, &w->timer);
}

/* Any registered file of a directory, to name a change of the directory
 * itself. A scan, but only on the rare delete/move of a whole directory. */
static watch_file_t *any_file_of(const ctl_watch_t *w, int wd)
{
    for (size_t i = 0; i < w->nbuckets; i++)
        for (watch_file_t *f = w->buckets[i]; f; f = f->next)
            if (f->wd == wd)
                return f;
    return NULL;
}

/* The kernel dropped a watch (directory deleted, filesystem unmounted) and
 * may hand out its number again: forget the files registered under it. */
static void forget_dir(ctl_watch_t *w, int wd)
{
    for (size_t i = 0; i < w->nbuckets; i++) {
        watch_file_t **link = &w->buckets[i];
        while (*link) {
            watch_file_t *f = *link;
            if (f->wd == wd) {
                *link = f->next;
                free(f);
                w->count--;
            } else {
                link = &f->next;
            }
        }
    }
}

static void handle_event(ctl_watch_t *w, const struct inotify_event *ev)
{
    if (ev->mask & IN_Q_OVERFLOW) {
        note_change(w, OVERFLOW_PATH);
        return;
    }
    if (ev->mask & SELF_EVENTS) {
        watch_file_t *f = any_file_of(w, ev->wd);
        if (f)
            note_change(w, f->path);
        if (ev->mask & IN_IGNORED)
            forget_dir(w, ev->wd);
        return;
    }
    if (ev->len == 0)
        return; /* attributes of the directory itself */
    watch_file_t *f = lookup(w, ev->wd, ev->name);
    if (f)
        note_change(w, f->path);
}

/* Drains the non-blocking inotify fd. */
static void on_readable(struct ev_loop *loop, ev_io *io, int revents)
{
    ctl_watch_t *w = io->data;
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        ssize_t n = read(w->fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* EAGAIN: drained */
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            handle_event(w, ev);
            p += sizeof *ev + ev->len;
        }
    }
}

/* The burst is over. `w` is not touched after the callback, which may free
 * it. */
static void on_quiet(struct ev_loop *loop, ev_timer *timer, int revents)
{
    ctl_watch_t *w = timer->data;
    ev_timer_stop(loop, timer);
    char path[PATH_MAX];
    memcpy(path, w->pending_path, sizeof path);
    w->pending = false;
    w->on_change(w->arg, path);
}

ctl_watch_t *ctl_watch_new(struct ev_loop *loop, double debounce, ctl_watch_cb on_change,
                           void *arg, char *err, size_t errlen)
{
    ctl_watch_t *w = calloc(1, sizeof *w);
    watch_file_t **buckets = calloc(INITIAL_BUCKETS, sizeof *buckets);
    if (!w || !buckets) {
        free(w);
        free(buckets);
        snprintf(err, errlen, "cannot watch source files: out of memory");
        return NULL;
    }
    w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w->fd < 0) {
        snprintf(err, errlen, "cannot watch source files: inotify_init1: %s%s", strerror(errno),
                 errno == EMFILE ? " (see fs.inotify.max_user_instances)" : "");
        free(w);
        free(buckets);
        return NULL;
    }
    w->loop = loop;
    w->debounce = debounce;
    w->on_change = on_change;
    w->arg = arg;
    w->buckets = buckets;
    w->nbuckets = INITIAL_BUCKETS;
    ev_io_init(&w->io, on_readable, w->fd, EV_READ);
    w->io.data = w;
    ev_init(&w->timer, on_quiet);
    w->timer.data = w;
    ev_io_start(loop, &w->io);
    return w;
}

/* Splits path into its directory (into dir) and returns its last name. */
static const char *split_path(const char *path, char *dir, size_t dirlen)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(dir, dirlen, ".");
        return path;
    }
    size_t n = slash == path ? 1 : (size_t)(slash - path); /* "/x" lives in "/" */
    snprintf(dir, dirlen, "%.*s", (int)n, path);
    return slash + 1;
}

int ctl_watch_add(ctl_watch_t *w, const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return -errno;
    if (!S_ISREG(st.st_mode))
        return -EINVAL;
    char dir[PATH_MAX];
    if (strlen(path) >= sizeof dir)
        return -ENAMETOOLONG;
    const char *name = split_path(path, dir, sizeof dir);
    /* The kernel returns the existing descriptor for a directory already
     * watched, however it is spelled: that is what makes add idempotent. */
    int wd = inotify_add_watch(w->fd, dir, DIR_EVENTS);
    if (wd < 0)
        return -errno;
    if (lookup(w, wd, name))
        return 0;
    if ((size_t)w->count >= w->nbuckets && grow(w) < 0)
        return -ENOMEM;
    size_t len = strlen(path);
    watch_file_t *f = malloc(sizeof *f + len + 1);
    if (!f)
        return -ENOMEM;
    memcpy(f->path, path, len + 1);
    f->name = f->path + (name - path);
    f->wd = wd;
    f->hash = hash_of(wd, f->name);
    f->next = w->buckets[f->hash & (w->nbuckets - 1)];
    w->buckets[f->hash & (w->nbuckets - 1)] = f;
    w->count++;
    return 0;
}

int ctl_watch_count(const ctl_watch_t *w) { return w->count; }

void ctl_watch_free(ctl_watch_t *w)
{
    if (!w)
        return;
    ev_io_stop(w->loop, &w->io);
    ev_timer_stop(w->loop, &w->timer);
    close(w->fd); /* drops every kernel watch at once */
    for (size_t i = 0; i < w->nbuckets; i++) {
        watch_file_t *f = w->buckets[i];
        while (f) {
            watch_file_t *next = f->next;
            free(f);
            f = next;
        }
    }
    free(w->buckets);
    free(w);
}
