/* chd_heartbeat: see chd_heartbeat.h. */
#include "chd_heartbeat.h"

#include "chd_conn.h"

#include <errno.h>
#include <poll.h>
#include <time.h>

#define CHECK_INTERVAL_NS 250000000L

void chd_heartbeat_inline_begin(chd_heartbeat_t *hb, const chd_conn_t *conn)
{
    hb->inline_conn = conn;
    atomic_store_explicit(&hb->inline_started, conn->request_started, memory_order_relaxed);
    atomic_store(&hb->inline_active, true);
}

void chd_heartbeat_inline_end(chd_heartbeat_t *hb)
{
    /* Dekker-style with the thread's store to thread_reading and load of
     * inline_active (both sequentially consistent): either the thread sees
     * the request over and leaves the channel alone, or we see it reading
     * and wait until it has let go. */
    atomic_store(&hb->inline_active, false);
    if (atomic_load(&hb->thread_reading)) {
        pthread_mutex_lock(&hb->reading);
        pthread_mutex_unlock(&hb->reading);
    }
}

/* Owns the control channel until the inline request ends. */
static void take_over(chd_heartbeat_t *hb)
{
    pthread_mutex_lock(&hb->reading);
    atomic_store(&hb->thread_reading, true);
    while (atomic_load(&hb->inline_active)) {
        struct pollfd p = {.fd = hb->control_fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        if (!hb->answer(hb->ctx, hb->inline_conn))
            break;
    }
    atomic_store(&hb->thread_reading, false);
    pthread_mutex_unlock(&hb->reading);
}

static void *heartbeat_main(void *arg)
{
    chd_heartbeat_t *hb = arg;
    struct timespec pause = {0, CHECK_INTERVAL_NS};
    while (!atomic_load(&hb->stopping)) {
        nanosleep(&pause, NULL);
        double started = atomic_load_explicit(&hb->inline_started, memory_order_relaxed);
        if (atomic_load(&hb->inline_active) && chd_monotonic() - started > CHD_HEARTBEAT_TAKEOVER)
            take_over(hb);
    }
    return NULL;
}

int chd_heartbeat_start(chd_heartbeat_t *hb, int control_fd, chd_heartbeat_answer_fn answer,
                        void *ctx)
{
    hb->control_fd = control_fd;
    hb->answer = answer;
    hb->ctx = ctx;
    hb->inline_conn = NULL;
    pthread_mutex_init(&hb->reading, NULL);
    atomic_init(&hb->inline_active, false);
    atomic_init(&hb->thread_reading, false);
    atomic_init(&hb->stopping, false);
    atomic_init(&hb->inline_started, 0.0);
    int rc = pthread_create(&hb->thread, NULL, heartbeat_main, hb);
    return -rc;
}

void chd_heartbeat_stop(chd_heartbeat_t *hb)
{
    atomic_store(&hb->stopping, true);
    pthread_join(hb->thread, NULL);
    pthread_mutex_destroy(&hb->reading);
}
