/* chd_orphan: see chd_orphan.h. */
#include "chd_orphan.h"

#include "cmn_log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

static atomic_bool begun;
static double watchdog_seconds;

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
