/* ctl_history: what the status page and `spawnctl top` draw as trends.
 *
 * A trend is a fixed ring of numbers, one point per step (CTL_TREND_STEP
 * seconds), so the page can show the last CTL_TREND_POINTS steps (ten
 * minutes) without any storage that grows. The supervisor feeds it once a
 * tick; a point is only taken when a whole step has passed, so a slow or
 * fast tick does not change what a point means. Two kinds are kept:
 *   - the request rate of the whole server (requests per second over each
 *     step, from the running total of answered requests, which survives
 *     children), and the rate over the last minute;
 *   - each child's resident memory (a trend in its record), for the page's
 *     memory sparkline.
 * Everything here runs on the controller's loop thread. */
#ifndef CTL_HISTORY_H
#define CTL_HISTORY_H

#include <ev.h>
#include <jansson.h>
#include <stdint.h>

#define CTL_TREND_POINTS 120 /* points kept: ten minutes at one every 5 s */
#define CTL_TREND_STEP 5.0   /* seconds between points */
#define CTL_RATE_WINDOW 60.0 /* seconds the "requests per second" figure covers */

typedef struct {
    float values[CTL_TREND_POINTS];
    int count; /* points held, at most CTL_TREND_POINTS */
    int next;  /* where the next point goes */
    ev_tstamp last_at; /* when the last point was taken; 0: none yet */
} ctl_trend_t;

/* Adds a point at `now` when a step has passed since the last (or none was
 * taken yet). Returns 1 when a point was added, 0 when it is too early. */
int ctl_trend_offer(ctl_trend_t *t, ev_tstamp now, double value);

/* The points, oldest first, as a new JSON array of numbers. */
json_t *ctl_trend_json(const ctl_trend_t *t);

/* The server's request history. */
typedef struct {
    ctl_trend_t rate; /* requests per second over each step */
    /* Request totals of the last minute, one per tick, for the current rate. */
    struct {
        ev_tstamp at;
        uint64_t requests;
    } ticks[64];
    int nticks, next_tick;
    uint64_t step_requests; /* the total when the last step began */
    ev_tstamp step_at;
} ctl_history_t;

void ctl_history_init(ctl_history_t *h);

/* Records the running total of answered requests at `now` (once a tick). */
void ctl_history_sample(ctl_history_t *h, ev_tstamp now, uint64_t total_requests);

/* Requests per second over (up to) the last minute; 0 before two samples. */
double ctl_history_rate(const ctl_history_t *h);

/* {"step_seconds": 5, "requests_per_second": [oldest .. newest]} (new). */
json_t *ctl_history_json(const ctl_history_t *h);

#endif
