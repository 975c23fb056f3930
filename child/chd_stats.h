/* chd_stats: a child's counters, in one place.
 *
 * The counters live on the page of shared memory the controller gave the
 * child (common/cmn_statspage.h), so the controller reads them whenever it
 * wants, without asking. Counted by whichever thread did the work (the I/O
 * thread, a worker, the green hub) with relaxed atomic adds, at three
 * points of a request's life:
 *   - chd_stats_request_begin: the request is parsed and dispatched
 *     (chd_conn_begin_request);
 *   - chd_stats_app_called: the app is about to run (chd_wsgi_serve): the
 *     queue time;
 *   - chd_stats_request_end: its response is out (chd_wsgi_serve), or
 *     chd_stats_response alone for an answer of the server's own
 *     (chd_conn_fail);
 * plus bytes as they are read (chd_conn_read_some, the I/O thread's
 * scratch read), busy threads around the app (chd_conn_loop.c), and each
 * connection's close by its reason (chd_conn_destroy).
 * One page per child process, opened by its driver (threaded or green). */
#ifndef CHD_STATS_H
#define CHD_STATS_H

#include "cmn_statspage.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef cmn_statspage_t chd_stats_t;

/* The page the controller passed on `fd` (see cmn_statspage_attach), or,
 * when fd < 0 or is not a page of this layout, a private one (logged), so
 * counting never needs a check. Never NULL unless out of memory. */
chd_stats_t *chd_stats_open(int fd);

/* Adds n to a counter (any thread). */
static inline void chd_stats_add(atomic_uint_fast64_t *counter, uint64_t n)
{
    atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

static inline void chd_stats_gauge(atomic_int *gauge, int delta)
{
    atomic_fetch_add_explicit(gauge, delta, memory_order_relaxed);
}

static inline void chd_stats_observe(cmn_stats_histogram_t *h, double seconds)
{
    chd_stats_add(&h->count[cmn_stats_bucket(seconds)], 1);
    chd_stats_add(&h->sum_us, seconds > 0 ? (uint64_t)(seconds * 1e6) : 0);
}

/* A request was parsed and is dispatched (it is in flight). */
static inline void chd_stats_request_begin(chd_stats_t *s) { chd_stats_gauge(&s->in_flight, 1); }

/* The app is called `waited` seconds after the request was dispatched. */
static inline void chd_stats_app_called(chd_stats_t *s, double waited)
{
    chd_stats_observe(&s->queue, waited);
}

/* A response of `status` and `bytes` (head included) went out; status 0:
 * none did (the client left before the app chose one), only bytes count. */
static inline void chd_stats_response(chd_stats_t *s, int status, uint64_t bytes)
{
    int cls = status / 100 - 1; /* 1xx -> 0 .. 5xx -> 4 */
    if (cls >= 0)
        chd_stats_add(&s->by_status[cls < CMN_STATUS_CLASSES ? cls : CMN_STATUS_CLASSES - 1], 1);
    if (status >= 500)
        chd_stats_add(&s->responses_5xx, 1);
    chd_stats_add(&s->bytes_sent, bytes);
}

/* A request that ran the app ended: its method class (CMN_METHOD_*), its
 * response, and how long it took from its dispatch. */
static inline void chd_stats_request_end(chd_stats_t *s, int method_class, int status,
                                         uint64_t bytes, double took)
{
    chd_stats_add(&s->by_method[method_class], 1);
    chd_stats_response(s, status, bytes);
    chd_stats_observe(&s->duration, took);
    chd_stats_gauge(&s->in_flight, -1);
}

/* A connection closed, for `why` (a chd_close_reason_t: CMN_CLOSE_*). */
static inline void chd_stats_closed(chd_stats_t *s, int why)
{
    chd_stats_add(&s->closed[why >= 0 && why < CMN_CLOSE_REASONS ? why : CMN_CLOSE_NONE], 1);
}

/* The method class of http-parser's method number (unknown: other). */
int chd_stats_method_class(unsigned http_method, bool unknown);

#endif
