/* cmn_statspage: a child's live counters, on a page of shared memory.
 *
 * The controller creates one page per child (a sealed memfd: it cannot
 * shrink or grow, so a child cannot make the controller's reads fault),
 * maps it, and hands the descriptor to the child at fork+exec
 * (CMN_STATSPAGE_CHILD_FD). The child maps it MAP_SHARED and counts into it
 * with relaxed atomic adds from whichever thread did the work; the
 * controller reads it whenever it builds a status or a /metrics scrape, so
 * what it shows includes requests answered a moment ago, and still reads
 * it after the child is gone (its last numbers are exact).
 *
 * The controller trusts the page for numbers only: nothing in it is an
 * index, a length or a pointer, every array has a fixed size both sides
 * compile in, and a child that scribbles garbage on it only gets garbage
 * numbers shown. `layout` is written by the controller; a child whose
 * layout differs does not use the page (it counts privately instead).
 *
 * Histograms hold per-bucket counts (not cumulative): bucket i counts
 * observations <= CMN_STATS_BOUNDS[i] seconds and > the bound before it;
 * the last bucket is +Inf. Sums are in microseconds. */
#ifndef CMN_STATSPAGE_H
#define CMN_STATSPAGE_H

#include <stdatomic.h>
#include <stdint.h>

#define CMN_STATSPAGE_LAYOUT 2 /* 2: closed[] */
#define CMN_STATSPAGE_CHILD_FD 4 /* the page's descriptor in a child */

enum { CMN_METHOD_GET, CMN_METHOD_HEAD, CMN_METHOD_POST, CMN_METHOD_PUT, CMN_METHOD_DELETE,
       CMN_METHOD_OTHER, CMN_METHOD_CLASSES };
#define CMN_STATUS_CLASSES 5 /* 1xx .. 5xx */
#define CMN_STATS_BUCKETS 16 /* 15 bounds and +Inf */

/* Why a connection closed (label "reason"), recorded by the child once per
 * connection: the values of the child's chd_close_reason_t, whose comments
 * (child/chd_conn.h) say what each means. NONE counts a connection closed
 * with no reason recorded, which no path of the child does. */
enum {
    CMN_CLOSE_NONE, CMN_CLOSE_FINISHED, CMN_CLOSE_IDLE, CMN_CLOSE_DRAINING,
    CMN_CLOSE_CLIENT_CLOSED, CMN_CLOSE_CLIENT_GONE, CMN_CLOSE_MALFORMED, CMN_CLOSE_TOO_LARGE,
    CMN_CLOSE_PROXY_REFUSED, CMN_CLOSE_HEADER_TIMEOUT, CMN_CLOSE_BODY_TIMEOUT,
    CMN_CLOSE_SEND_TIMEOUT, CMN_CLOSE_REQUEST_TIMEOUT, CMN_CLOSE_UNREAD_BODY,
    CMN_CLOSE_OUT_OF_MEMORY, CMN_CLOSE_APP_ERROR, CMN_CLOSE_TLS_FAILED, CMN_CLOSE_NOT_TLS,
    CMN_CLOSE_REASONS
};

/* Upper bounds of the histogram buckets, in seconds (the last is +Inf). */
extern const double CMN_STATS_BOUNDS[CMN_STATS_BUCKETS - 1];

typedef struct {
    atomic_uint_fast64_t count[CMN_STATS_BUCKETS];
    atomic_uint_fast64_t sum_us;
} cmn_stats_histogram_t;

typedef struct {
    uint32_t layout; /* CMN_STATSPAGE_LAYOUT, written by the controller */
    uint32_t size;   /* sizeof(cmn_statspage_t), written by the controller */
    /* Counters: */
    atomic_uint_fast64_t requests_done; /* requests that ran the app */
    atomic_uint_fast64_t responses_5xx; /* answers with a status of 500 or more */
    atomic_uint_fast64_t bytes_sent;    /* response bytes, heads included */
    atomic_uint_fast64_t bytes_received; /* bytes read from clients */
    atomic_uint_fast64_t by_method[CMN_METHOD_CLASSES]; /* requests that ran the app */
    atomic_uint_fast64_t by_status[CMN_STATUS_CLASSES]; /* every response, the server's too */
    atomic_uint_fast64_t closed[CMN_CLOSE_REASONS];     /* connections closed, by why */
    cmn_stats_histogram_t duration; /* request parsed .. response sent */
    cmn_stats_histogram_t queue;    /* request parsed .. app called */
    /* Gauges: */
    atomic_int connections;  /* open now */
    atomic_int in_flight;    /* requests between parsed and answered */
    atomic_int threads_busy; /* threads running the app now (threaded mode) */
} cmn_statspage_t;

/* A plain copy of the numbers, for the controller's sums. */
typedef struct {
    uint64_t requests_done, responses_5xx, bytes_sent, bytes_received;
    uint64_t by_method[CMN_METHOD_CLASSES], by_status[CMN_STATUS_CLASSES];
    uint64_t closed[CMN_CLOSE_REASONS];
    uint64_t duration[CMN_STATS_BUCKETS], queue[CMN_STATS_BUCKETS];
    uint64_t duration_sum_us, queue_sum_us;
    int64_t connections, in_flight, threads_busy;
} cmn_stats_snapshot_t;

/* The controller: creates a sealed, zeroed page with its layout written,
 * maps it. Returns the mapping and stores the descriptor (close-on-exec)
 * in *fd, or NULL with errno set. */
cmn_statspage_t *cmn_statspage_create(int *fd);

/* The child: maps the page on fd (and closes fd). Returns NULL when fd is
 * not a page of this layout (errno set); the caller then counts privately. */
cmn_statspage_t *cmn_statspage_attach(int fd);

/* Unmaps a page from either side. */
void cmn_statspage_release(cmn_statspage_t *page);

/* Copies the numbers out with relaxed loads (any thread, any time). */
void cmn_statspage_read(const cmn_statspage_t *page, cmn_stats_snapshot_t *out);

/* Adds the counters of `more` to `into` (gauges too: a sum over children). */
void cmn_stats_snapshot_add(cmn_stats_snapshot_t *into, const cmn_stats_snapshot_t *more);

/* The bucket of an observation of `seconds`: 0 .. CMN_STATS_BUCKETS-1. */
int cmn_stats_bucket(double seconds);

/* Names for labels: "GET".."other", "1xx".."5xx", and a close reason's
 * ("header_timeout"; "unknown" out of range). */
const char *cmn_stats_method_name(int cls);
const char *cmn_stats_status_name(int cls);
const char *cmn_stats_close_reason_name(int why);

#endif
