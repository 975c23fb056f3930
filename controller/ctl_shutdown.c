/* ctl_shutdown: see ctl_shutdown.h. */
#include "ctl_shutdown.h"

#include "cmn_log.h"
#include "ctl_sdnotify.h"
#include "ctl_supervisor.h"
#include "ctl_supervisor_priv.h"

#include <signal.h>

static void on_delay_over(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    ctl_supervisor_t *sup = w->data;
    cmn_info("shutdown delay over: closing the listening sockets");
    ctl_supervisor_stop(sup, SIGTERM, sup->cfg->deadman_timeout);
}

void ctl_shutdown_graceful(ctl_supervisor_t *sup, const char *why)
{
    if (sup->stopping || sup->stop_announced)
        return;
    sup->stop_announced = true;
    double delay = sup->cfg->shutdown_delay;
    if (delay <= 0) {
        cmn_info("%s: graceful stop (timeout %.0f s)", why, sup->cfg->deadman_timeout);
        ctl_supervisor_stop(sup, SIGTERM, sup->cfg->deadman_timeout);
        return;
    }
    cmn_info("%s: graceful stop in %.1f s (--shutdown-delay; /healthz answers 503 now)", why,
             delay);
    ctl_sdnotify("STOPPING=1\nSTATUS=stopping in %.1f s", delay);
    ev_timer_init(&sup->shutdown_timer, on_delay_over, delay, 0);
    sup->shutdown_timer.data = sup;
    ev_timer_start(sup->loop, &sup->shutdown_timer);
}

void ctl_shutdown_cancel(ctl_supervisor_t *sup)
{
    ev_timer_stop(sup->loop, &sup->shutdown_timer);
}

bool ctl_shutdown_announced(const ctl_supervisor_t *sup)
{
    return sup->stop_announced || sup->stopping;
}
