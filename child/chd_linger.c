/* chd_linger: see chd_linger.h. */
#include "chd_linger.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

/* One socket lingering: its watchers, and how much it was allowed to
 * send so far. */
struct chd_linger {
    ev_io io; /* io.fd is the socket */
    ev_timer timer;
    chd_conn_env_t *env;
    size_t discarded;
    struct chd_linger *prev, *next; /* env->lingering */
};

static void list_add(chd_conn_env_t *env, struct chd_linger *l)
{
    l->prev = NULL;
    l->next = env->lingering;
    if (env->lingering)
        env->lingering->prev = l;
    env->lingering = l;
}

static void list_remove(chd_conn_env_t *env, struct chd_linger *l)
{
    if (l->prev)
        l->prev->next = l->next;
    else
        env->lingering = l->next;
    if (l->next)
        l->next->prev = l->prev;
}

/* The linger is over: the socket closed, the record gone; a drain that
 * waited for it may end. */
static void finish(struct chd_linger *l)
{
    chd_conn_env_t *env = l->env;
    ev_io_stop(env->loop, &l->io);
    ev_timer_stop(env->loop, &l->timer);
    close(l->io.fd);
    list_remove(env, l);
    free(l);
    if (env->on_close)
        env->on_close(env->owner);
}

#define READS_PER_WAKEUP 16 /* of 64 KiB: a fast sender holds the loop no longer */

/* Reads and drops what is there (at most READS_PER_WAKEUP reads: if more
 * is waiting, the watcher fires again at the loop's next turn). Returns
 * true while the linger goes on, false once it is over: end of file, an
 * error, or the byte bound reached. */
static bool discard_available(struct chd_linger *l)
{
    static char scratch[64 * 1024]; /* the loop's: one thread at a time */
    for (int i = 0; i < READS_PER_WAKEUP && l->discarded < CHD_LINGER_MAX_BYTES; i++) {
        ssize_t n = recv(l->io.fd, scratch, sizeof scratch, MSG_DONTWAIT);
        if (n > 0) {
            l->discarded += (size_t)n;
            chd_stats_add(&l->env->stats->bytes_received, (uint64_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
    return l->discarded < CHD_LINGER_MAX_BYTES;
}

static void on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    struct chd_linger *l = w->data;
    if (!discard_available(l))
        finish(l);
}

static void on_time_up(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    finish(w->data);
}

void chd_linger_close(chd_conn_env_t *env, int fd)
{
    shutdown(fd, SHUT_WR); /* the answer is whole: a FIN after it, whatever comes in */
    struct chd_linger *l = calloc(1, sizeof *l);
    if (!l) {
        close(fd);
        return;
    }
    l->env = env;
    ev_io_init(&l->io, on_readable, fd, EV_READ);
    l->io.data = l;
    ev_timer_init(&l->timer, on_time_up, CHD_LINGER_SECONDS, 0);
    l->timer.data = l;
    list_add(env, l);
    ev_now_update(env->loop); /* counted from now, not from the loop's last wake-up */
    ev_io_start(env->loop, &l->io);
    ev_timer_start(env->loop, &l->timer);
}
