/* cmn_statspage: see cmn_statspage.h. */
#include "cmn_statspage.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

const double CMN_STATS_BOUNDS[CMN_STATS_BUCKETS - 1] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
};

#define SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

cmn_statspage_t *cmn_statspage_create(int *fd)
{
    int mfd = memfd_create("spawning-stats", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (mfd < 0)
        return NULL;
    void *map = MAP_FAILED;
    if (ftruncate(mfd, sizeof(cmn_statspage_t)) == 0 && fcntl(mfd, F_ADD_SEALS, SEALS) == 0)
        map = mmap(NULL, sizeof(cmn_statspage_t), PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
    if (map == MAP_FAILED) {
        int e = errno;
        close(mfd);
        errno = e;
        return NULL;
    }
    cmn_statspage_t *page = map; /* a new memfd reads as zeros */
    page->layout = CMN_STATSPAGE_LAYOUT;
    page->size = sizeof *page;
    *fd = mfd;
    return page;
}

cmn_statspage_t *cmn_statspage_attach(int fd)
{
    struct stat st;
    void *map = MAP_FAILED;
    if (fstat(fd, &st) == 0 && st.st_size == (off_t)sizeof(cmn_statspage_t))
        map = mmap(NULL, sizeof(cmn_statspage_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    else
        errno = EINVAL;
    int e = errno;
    close(fd);
    if (map == MAP_FAILED) {
        errno = e;
        return NULL;
    }
    cmn_statspage_t *page = map;
    if (page->layout != CMN_STATSPAGE_LAYOUT || page->size != sizeof *page) {
        munmap(map, sizeof *page);
        errno = EPROTO;
        return NULL;
    }
    return page;
}

void cmn_statspage_release(cmn_statspage_t *page)
{
    if (page)
        munmap(page, sizeof *page);
}

static uint64_t load(const atomic_uint_fast64_t *counter)
{
    return atomic_load_explicit((atomic_uint_fast64_t *)counter, memory_order_relaxed);
}

static void read_histogram(const cmn_stats_histogram_t *h, uint64_t *counts, uint64_t *sum_us)
{
    for (int i = 0; i < CMN_STATS_BUCKETS; i++)
        counts[i] = load(&h->count[i]);
    *sum_us = load(&h->sum_us);
}

void cmn_statspage_read(const cmn_statspage_t *page, cmn_stats_snapshot_t *out)
{
    memset(out, 0, sizeof *out);
    out->requests_done = load(&page->requests_done);
    out->responses_5xx = load(&page->responses_5xx);
    out->bytes_sent = load(&page->bytes_sent);
    out->bytes_received = load(&page->bytes_received);
    for (int i = 0; i < CMN_METHOD_CLASSES; i++)
        out->by_method[i] = load(&page->by_method[i]);
    for (int i = 0; i < CMN_STATUS_CLASSES; i++)
        out->by_status[i] = load(&page->by_status[i]);
    for (int i = 0; i < CMN_CLOSE_REASONS; i++)
        out->closed[i] = load(&page->closed[i]);
    read_histogram(&page->duration, out->duration, &out->duration_sum_us);
    read_histogram(&page->queue, out->queue, &out->queue_sum_us);
    out->connections = atomic_load_explicit((atomic_int *)&page->connections, memory_order_relaxed);
    out->in_flight = atomic_load_explicit((atomic_int *)&page->in_flight, memory_order_relaxed);
    out->threads_busy = atomic_load_explicit((atomic_int *)&page->threads_busy,
                                             memory_order_relaxed);
}

void cmn_stats_snapshot_add(cmn_stats_snapshot_t *into, const cmn_stats_snapshot_t *more)
{
    /* Every member is a 64-bit number: add them as an array. */
    _Static_assert(sizeof(cmn_stats_snapshot_t) % sizeof(uint64_t) == 0, "all 64-bit members");
    uint64_t *a = (uint64_t *)into;
    const uint64_t *b = (const uint64_t *)more;
    for (size_t i = 0; i < sizeof *into / sizeof *a; i++)
        a[i] += b[i];
}

int cmn_stats_bucket(double seconds)
{
    int i = 0;
    while (i < CMN_STATS_BUCKETS - 1 && seconds > CMN_STATS_BOUNDS[i])
        i++;
    return i;
}

const char *cmn_stats_method_name(int cls)
{
    static const char *const names[CMN_METHOD_CLASSES] = {"GET", "HEAD", "POST", "PUT", "DELETE",
                                                          "other"};
    return cls >= 0 && cls < CMN_METHOD_CLASSES ? names[cls] : "other";
}

const char *cmn_stats_status_name(int cls)
{
    static const char *const names[CMN_STATUS_CLASSES] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
    return cls >= 0 && cls < CMN_STATUS_CLASSES ? names[cls] : "5xx";
}

const char *cmn_stats_close_reason_name(int why)
{
    static const char *const names[CMN_CLOSE_REASONS] = {
        [CMN_CLOSE_NONE] = "none",
        [CMN_CLOSE_FINISHED] = "finished",
        [CMN_CLOSE_IDLE] = "idle",
        [CMN_CLOSE_DRAINING] = "draining",
        [CMN_CLOSE_CLIENT_CLOSED] = "client_closed",
        [CMN_CLOSE_CLIENT_GONE] = "client_gone",
        [CMN_CLOSE_MALFORMED] = "malformed",
        [CMN_CLOSE_TOO_LARGE] = "too_large",
        [CMN_CLOSE_PROXY_REFUSED] = "proxy_refused",
        [CMN_CLOSE_HEADER_TIMEOUT] = "header_timeout",
        [CMN_CLOSE_BODY_TIMEOUT] = "body_timeout",
        [CMN_CLOSE_SEND_TIMEOUT] = "send_timeout",
        [CMN_CLOSE_REQUEST_TIMEOUT] = "request_timeout",
        [CMN_CLOSE_UNREAD_BODY] = "unread_body",
        [CMN_CLOSE_OUT_OF_MEMORY] = "out_of_memory",
        [CMN_CLOSE_APP_ERROR] = "app_error",
        [CMN_CLOSE_TLS_FAILED] = "tls_failed",
        [CMN_CLOSE_NOT_TLS] = "not_tls",
    };
    return why >= 0 && why < CMN_CLOSE_REASONS ? names[why] : "unknown";
}
