/* chd_stats: a child's counters, in one place.
 *
 * Counted by whichever thread did the work (the I/O thread, a worker, the
 * green hub) with relaxed atomics, and read by whoever reports them: the
 * heartbeat answer to the controller (chd_control.c). One instance per
 * child process, owned by its server (threaded or green). */
#ifndef CHD_STATS_H
#define CHD_STATS_H

#include <stdatomic.h>
#include <stdint.h>

typedef struct {
    atomic_uint_fast64_t requests_done; /* requests that ran (the app's, answered) */
    atomic_uint_fast64_t responses_5xx; /* answers with a status of 500 or more */
    atomic_uint_fast64_t bytes_sent;    /* response bytes, heads included */
    atomic_int connections;             /* open now */
} chd_stats_t;

/* Adds n to a counter (any thread). */
static inline void chd_stats_add(atomic_uint_fast64_t *counter, uint64_t n)
{
    atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

#endif
