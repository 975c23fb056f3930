/* ctl_history: see ctl_history.h. */
#include "ctl_history.h"

#include <string.h>

#define TICK_SLOTS ((int)(sizeof(((ctl_history_t *)0)->ticks) / sizeof(((ctl_history_t *)0)->ticks[0])))

int ctl_trend_offer(ctl_trend_t *t, ev_tstamp now, double value)
{
    if (t->count > 0 && now - t->last_at < CTL_TREND_STEP)
        return 0;
    t->values[t->next] = (float)value;
    t->next = (t->next + 1) % CTL_TREND_POINTS;
    if (t->count < CTL_TREND_POINTS)
        t->count++;
    t->last_at = now;
    return 1;
}

json_t *ctl_trend_json(const ctl_trend_t *t)
{
    json_t *points = json_array();
    int first = (t->next - t->count + CTL_TREND_POINTS) % CTL_TREND_POINTS;
    for (int i = 0; points && i < t->count; i++)
        json_array_append_new(points, json_real(t->values[(first + i) % CTL_TREND_POINTS]));
    return points;
}

void ctl_history_init(ctl_history_t *h)
{
    memset(h, 0, sizeof *h);
}

/* Once a step has passed, the rate over it becomes a point. The first
 * sample only starts the first step. */
static void sample_step(ctl_history_t *h, ev_tstamp now, uint64_t total)
{
    if (h->step_at == 0) {
        h->step_at = now;
        h->step_requests = total;
        return;
    }
    double span = now - h->step_at;
    if (span < CTL_TREND_STEP)
        return;
    double rate = total >= h->step_requests ? (double)(total - h->step_requests) / span : 0;
    ctl_trend_offer(&h->rate, now, rate);
    h->step_at = now;
    h->step_requests = total;
}

void ctl_history_sample(ctl_history_t *h, ev_tstamp now, uint64_t total_requests)
{
    h->ticks[h->next_tick].at = now;
    h->ticks[h->next_tick].requests = total_requests;
    h->next_tick = (h->next_tick + 1) % TICK_SLOTS;
    if (h->nticks < TICK_SLOTS)
        h->nticks++;
    sample_step(h, now, total_requests);
}

double ctl_history_rate(const ctl_history_t *h)
{
    if (h->nticks < 2)
        return 0;
    int newest = (h->next_tick + TICK_SLOTS - 1) % TICK_SLOTS;
    /* The oldest tick still inside the window (the newest is always in). */
    int oldest = newest;
    for (int i = 1; i < h->nticks; i++) {
        int k = (newest - i + TICK_SLOTS) % TICK_SLOTS;
        if (h->ticks[newest].at - h->ticks[k].at > CTL_RATE_WINDOW)
            break;
        oldest = k;
    }
    double span = h->ticks[newest].at - h->ticks[oldest].at;
    if (span <= 0 || h->ticks[newest].requests < h->ticks[oldest].requests)
        return 0;
    return (double)(h->ticks[newest].requests - h->ticks[oldest].requests) / span;
}

json_t *ctl_history_json(const ctl_history_t *h)
{
    return json_pack("{s:f, s:o}", "step_seconds", CTL_TREND_STEP, "requests_per_second",
                     ctl_trend_json(&h->rate));
}
