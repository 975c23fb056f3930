/* chd_orphan: see chd_orphan.h. */
#include "chd_orphan.h"

#include "chd_conn_loop.h"
#include "cmn_log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_TAKEN 1024 /* queued connections taken over; more are closed */

static atomic_bool begun, released;
static double watchdog_seconds;

/* Connections taken off the sockets by the heartbeat thread. */
static struct {
    pthread_mutex_t lock;
    int n;
    struct {
        int fd;
        struct sockaddr_storage peer;
    } conns[MAX_TAKEN];
} taken = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void *watchdog(void *arg)
{
    (void)arg;
    struct timespec ts = {(time_t)watchdog_seconds,
                          (long)((watchdog_seconds - (double)(time_t)watchdog_seconds) * 1e9)};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
    cmn_warning("the controller is gone and requests still run after %.0f s "
                "(--graceful-timeout): exiting",
                watchdog_seconds);
    _exit(1);
    return NULL;
}

void chd_orphan_begin(const chd_config_t *cfg)
{
    if (atomic_exchange(&begun, true))
        return;
    cmn_info("the controller is gone: finishing what runs, then exiting");
    if (cfg->graceful_timeout < 0)
        return;
    watchdog_seconds = cfg->graceful_timeout;
    pthread_attr_t attr;
    pthread_t thread;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&thread, &attr, watchdog, NULL) != 0)
        cmn_error("cannot start the orphan watchdog");
    pthread_attr_destroy(&attr);
}

static void take_queued(int listen_fd)
{
    for (;;) {
        struct sockaddr_storage peer;
        socklen_t len = sizeof peer;
        int fd = accept4(listen_fd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        pthread_mutex_lock(&taken.lock);
        if (taken.n < MAX_TAKEN) {
            taken.conns[taken.n].fd = fd;
            taken.conns[taken.n].peer = peer;
            taken.n++;
            fd = -1;
        }
        pthread_mutex_unlock(&taken.lock);
        if (fd >= 0)
            close(fd);
    }
}

void chd_orphan_release_listeners(chd_listeners_t *listeners)
{
    if (atomic_exchange(&released, true))
        return;
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd < 0)
        return;
    for (int i = 0; i < listeners->n; i++) {
        int fd = listeners->fds[i];
        if (fd < 0)
            continue;
        take_queued(fd);
        /* Atomically replaces the socket: the number stays taken (the loop
         * still has a watcher on it), the port is let go. */
        if (dup3(null_fd, fd, O_CLOEXEC) < 0)
            cmn_warning("cannot let go of a listening socket: %s", strerror(errno));
    }
    close(null_fd);
    cmn_info("listening sockets closed while a request runs");
}

void chd_orphan_adopt(chd_conn_loop_t *requests)
{
    pthread_mutex_lock(&taken.lock);
    int n = taken.n;
    taken.n = 0;
    pthread_mutex_unlock(&taken.lock);
    for (int i = 0; i < n; i++)
        chd_conn_loop_open(requests, taken.conns[i].fd, (struct sockaddr *)&taken.conns[i].peer);
}
