/* Unit tests for controller/ctl_metrics.h and common/cmn_statspage.h: the
 * shared counter page (created, sealed, attached, read), histogram buckets
 * and percentiles, collecting over children and the gone ones (closes by
 * reason among them), and the Prometheus text. */
#include "cmn_statspage.h"
#include "ctl_metrics.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sys/mman.h>

#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)

TEST(buckets_follow_the_bounds)
{
    CHECK_EQ_INT(cmn_stats_bucket(0), 0);
    CHECK_EQ_INT(cmn_stats_bucket(0.0005), 0);
    CHECK_EQ_INT(cmn_stats_bucket(0.001), 0); /* "le": a bound is inside its bucket */
    CHECK_EQ_INT(cmn_stats_bucket(0.0011), 1);
    CHECK_EQ_INT(cmn_stats_bucket(0.2), 7);  /* (0.1, 0.25] */
    CHECK_EQ_INT(cmn_stats_bucket(60), 14);
    CHECK_EQ_INT(cmn_stats_bucket(61), CMN_STATS_BUCKETS - 1);
    CHECK_EQ_INT(cmn_stats_bucket(-1), 0);
}

TEST(quantiles_interpolate_inside_a_bucket)
{
    uint64_t h[CMN_STATS_BUCKETS] = {0};
    CHECK(isnan(ctl_metrics_quantile(h, 0.5)));
    h[7] = 10; /* ten requests of (0.1, 0.25] s */
    CHECK(NEAR(ctl_metrics_quantile(h, 0.5), 0.175));
    CHECK(NEAR(ctl_metrics_quantile(h, 1.0), 0.25));
    h[0] = 90; /* and ninety of under a millisecond */
    CHECK(NEAR(ctl_metrics_quantile(h, 0.5), 0.001 * 50 / 90));
    CHECK(NEAR(ctl_metrics_quantile(h, 0.95), 0.1 + 0.15 * 0.5));
    uint64_t slow[CMN_STATS_BUCKETS] = {0};
    slow[CMN_STATS_BUCKETS - 1] = 3; /* over a minute: the largest bound we know */
    CHECK(NEAR(ctl_metrics_quantile(slow, 0.99), 60));
}

TEST(reload_causes_from_reasons)
{
    CHECK_EQ_INT(ctl_metrics_reload_cause("SIGHUP"), CTL_RELOAD_SIGNAL);
    CHECK_EQ_INT(ctl_metrics_reload_cause("spawnctl reload"), CTL_RELOAD_SPAWNCTL);
    CHECK_EQ_INT(ctl_metrics_reload_cause("source change: /x/app.py"), CTL_RELOAD_DEV);
    CHECK_EQ_INT(ctl_metrics_reload_cause("something else"), CTL_RELOAD_OTHER);
    CHECK_EQ_STR(ctl_metrics_reload_name(CTL_RELOAD_DEV), "dev");
    CHECK_EQ_STR(ctl_metrics_restart_name(CTL_RESTART_MAX_MEMORY), "max-memory");
}

/* The child's mapping and the controller's see the same numbers; the page
 * cannot be resized by the child (the controller's reads cannot fault). */
TEST(page_is_shared_and_sealed)
{
    int fd;
    cmn_statspage_t *mine = cmn_statspage_create(&fd);
    CHECK(mine != NULL);
    if (!mine)
        return;
    CHECK_EQ_INT(mine->layout, CMN_STATSPAGE_LAYOUT);
    CHECK(ftruncate(fd, 0) < 0 && errno == EPERM);
    CHECK(ftruncate(fd, 1 << 20) < 0 && errno == EPERM);
    cmn_statspage_t *theirs = cmn_statspage_attach(dup(fd));
    CHECK(theirs != NULL && theirs != mine);
    if (theirs) {
        atomic_fetch_add(&theirs->requests_done, 7);
        atomic_fetch_add(&theirs->duration.count[3], 2);
        atomic_fetch_add(&theirs->in_flight, 1);
        atomic_fetch_add(&theirs->closed[CMN_CLOSE_NOT_TLS], 3);
        cmn_stats_snapshot_t snap;
        cmn_statspage_read(mine, &snap);
        CHECK_EQ_INT(snap.requests_done, 7);
        CHECK_EQ_INT(snap.closed[CMN_CLOSE_NOT_TLS], 3); /* the last counter of the array */
        CHECK_EQ_INT(snap.closed[CMN_CLOSE_TLS_FAILED], 0);
        CHECK_EQ_INT(snap.duration[3], 2);
        CHECK_EQ_INT(snap.in_flight, 1);
        cmn_statspage_release(theirs);
    }
    mine->layout = CMN_STATSPAGE_LAYOUT + 1; /* a child of another build refuses it */
    CHECK(cmn_statspage_attach(dup(fd)) == NULL && errno == EPROTO);
    int other = memfd_create("not-a-page", MFD_CLOEXEC);
    CHECK(cmn_statspage_attach(other) == NULL && errno == EINVAL);
    close(fd);
    cmn_statspage_release(mine);
}

/* Two live children and the gone ones' counters add up; a gauge of a
 * gone child does not count. */
TEST(collect_adds_children_and_the_retired)
{
    int fd1, fd2;
    ctl_child_t a = {.pid = getpid(), .generation = 2, .state = CTL_CHILD_READY, .started_at = 100};
    ctl_child_t b = {.pid = 999999999, .generation = 2, .state = CTL_CHILD_DRAINING, .started_at = 110};
    a.next = &b;
    a.stats = cmn_statspage_create(&fd1);
    b.stats = cmn_statspage_create(&fd2);
    close(fd1);
    close(fd2);
    atomic_store(&a.stats->requests_done, 5);
    atomic_store(&b.stats->requests_done, 3);
    atomic_store(&a.stats->by_status[1], 5);
    atomic_store(&b.stats->by_status[4], 3);
    atomic_store(&a.stats->connections, 4);
    atomic_store(&a.stats->in_flight, 1);
    atomic_store(&a.stats->closed[CMN_CLOSE_MALFORMED], 2);
    atomic_store(&b.stats->closed[CMN_CLOSE_MALFORMED], 1);
    atomic_store(&b.stats->closed[CMN_CLOSE_IDLE], 6);
    cmn_stats_snapshot_t retired = {.requests_done = 10, .by_status = {0, 10}};
    retired.closed[CMN_CLOSE_MALFORMED] = 4;
    retired.closed[CMN_CLOSE_FINISHED] = 9;
    ctl_events_t events = {.restarts = {[CTL_RESTART_CRASH] = 2}};
    ctl_metrics_t m;
    CHECK_EQ_INT(ctl_metrics_collect(&a, &retired, &events, 4, 2, 130, &m), 0);
    CHECK_EQ_INT(m.totals.requests_done, 18);
    CHECK_EQ_INT(m.totals.by_status[1], 15);
    CHECK_EQ_INT(m.totals.by_status[4], 3);
    CHECK_EQ_INT(m.totals.connections, 4);
    CHECK_EQ_INT(m.totals.closed[CMN_CLOSE_MALFORMED], 7);
    CHECK_EQ_INT(m.totals.closed[CMN_CLOSE_IDLE], 6);
    CHECK_EQ_INT(m.totals.closed[CMN_CLOSE_FINISHED], 9);
    CHECK_EQ_INT(m.totals.closed[CMN_CLOSE_NONE], 0);
    CHECK_EQ_INT(m.children_ready, 1);
    CHECK_EQ_INT(m.nchildren, 2);
    CHECK(NEAR(m.children[0].age_seconds, 30));
    CHECK(m.children[0].rss_bytes > 0);       /* this process */
    CHECK(m.children[1].rss_bytes == 0);      /* no such process: zero, no failure */
    CHECK_EQ_INT(m.children[1].requests, 3);
    CHECK_EQ_INT(m.events.restarts[CTL_RESTART_CRASH], 2);
    ctl_metrics_free(&m);
    cmn_statspage_release(a.stats);
    cmn_statspage_release(b.stats);
}

/* Every sample line is `name{labels} value` or `name value`; every family
 * has HELP and TYPE before its samples. */
static void check_exposition_syntax(const char *text)
{
    char family[128] = "";
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        CHECK(end != NULL);
        if (!end)
            return;
        if (strncmp(line, "# TYPE ", 7) == 0) {
            sscanf(line + 7, "%127s", family);
        } else if (line[0] != '#') {
            CHECK(strncmp(line, "spawning_", 9) == 0);
            CHECK(family[0] && strncmp(line, family, strlen(family)) == 0);
            const char *space = memchr(line, ' ', (size_t)(end - line));
            CHECK(space != NULL);
        }
        line = end + 1;
    }
}

/* The exposition text of m, in out (NUL-terminated). */
static const char *rendered(const ctl_metrics_t *m, cmn_buf_t *out)
{
    ctl_metrics_render(m, out);
    cmn_buf_append(out, "", 1);
    return cmn_buf_head(out);
}

TEST(render_writes_the_exposition_format)
{
    ctl_metrics_child_t child = {.pid = 4242, .generation = 3, .state = "ready",
                                 .rss_bytes = 1048576, .cpu_seconds = 1.5, .age_seconds = 60,
                                 .requests = 12};
    ctl_metrics_t m = {.threads_configured = 4, .children_ready = 2, .children_desired = 2,
                       .children = &child, .nchildren = 1};
    m.totals.by_method[CMN_METHOD_GET] = 9;
    m.totals.by_status[3] = 2;
    m.totals.duration[0] = 5;
    m.totals.duration[8] = 4; /* (0.25, 0.5] */
    m.totals.duration_sum_us = 1500000;
    m.totals.connections = 3;
    m.totals.in_flight = 1;
    m.events.reloads_ok[CTL_RELOAD_SIGNAL] = 2;
    m.events.restarts[CTL_RESTART_MAX_AGE] = 1;
    cmn_buf_t out = CMN_BUF_INIT;
    const char *t = rendered(&m, &out);
    CHECK(strstr(t, "# TYPE spawning_requests_total counter\n") != NULL);
    CHECK(strstr(t, "spawning_requests_total{method=\"GET\"} 9\n") != NULL);
    CHECK(strstr(t, "spawning_responses_total{status=\"4xx\"} 2\n") != NULL);
    CHECK(strstr(t, "# TYPE spawning_request_duration_seconds histogram\n") != NULL);
    CHECK(strstr(t, "spawning_request_duration_seconds_bucket{le=\"0.001\"} 5\n") != NULL);
    CHECK(strstr(t, "spawning_request_duration_seconds_bucket{le=\"0.25\"} 5\n") != NULL);
    CHECK(strstr(t, "spawning_request_duration_seconds_bucket{le=\"0.5\"} 9\n") != NULL);
    CHECK(strstr(t, "spawning_request_duration_seconds_bucket{le=\"+Inf\"} 9\n") != NULL);
    CHECK(strstr(t, "spawning_request_duration_seconds_count 9\n") != NULL);
    CHECK(strstr(t, "spawning_request_duration_seconds_sum 1.500000\n") != NULL);
    CHECK(strstr(t, "spawning_threads_configured 8\n") != NULL);
    CHECK(strstr(t, "spawning_connections_idle 2\n") != NULL);
    CHECK(strstr(t, "spawning_child_resident_memory_bytes{pid=\"4242\",generation=\"3\"} 1048576\n") != NULL);
    CHECK(strstr(t, "spawning_child_cpu_seconds_total{pid=\"4242\",generation=\"3\"} 1.5\n") != NULL);
    CHECK(strstr(t, "spawning_reloads_total{cause=\"signal\",result=\"ok\"} 2\n") != NULL);
    CHECK(strstr(t, "spawning_child_restarts_total{cause=\"max-age\"} 1\n") != NULL);
    check_exposition_syntax(t);
    cmn_buf_free(&out);
}

/* One sample per close reason, zeros included, each reason named once. */
TEST(closes_by_reason_render_every_reason)
{
    ctl_metrics_t m = {0};
    m.totals.closed[CMN_CLOSE_TOO_LARGE] = 2;
    m.totals.closed[CMN_CLOSE_HEADER_TIMEOUT] = 1;
    cmn_buf_t out = CMN_BUF_INIT;
    const char *t = rendered(&m, &out);
    static const char *const want[] = {
        "# HELP spawning_connections_closed_total ",
        "# TYPE spawning_connections_closed_total counter\n",
        "spawning_connections_closed_total{reason=\"too_large\"} 2\n",
        "spawning_connections_closed_total{reason=\"header_timeout\"} 1\n",
        "spawning_connections_closed_total{reason=\"idle\"} 0\n",
        "spawning_connections_closed_total{reason=\"not_tls\"} 0\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        CHECK(strstr(t, want[i]) != NULL);
    int samples = 0;
    for (const char *p = t; (p = strstr(p, "\nspawning_connections_closed_total{")); p++)
        samples++;
    CHECK_EQ_INT(samples, CMN_CLOSE_REASONS);
    for (int i = 0; i < CMN_CLOSE_REASONS; i++) {
        const char *name = cmn_stats_close_reason_name(i);
        CHECK(strcmp(name, "unknown") != 0);
        for (int j = 0; j < i; j++)
            CHECK(strcmp(name, cmn_stats_close_reason_name(j)) != 0);
    }
    CHECK_EQ_STR(cmn_stats_close_reason_name(CMN_CLOSE_REASONS), "unknown");
    CHECK_EQ_STR(cmn_stats_close_reason_name(-1), "unknown");
    check_exposition_syntax(t);
    cmn_buf_free(&out);
}

TEST(gauges_never_show_below_zero)
{
    /* Read one child at a time, in_flight may briefly exceed connections. */
    ctl_metrics_t m = {0};
    m.totals.connections = 1;
    m.totals.in_flight = 2;
    cmn_buf_t out = CMN_BUF_INIT;
    CHECK(strstr(rendered(&m, &out), "spawning_connections_idle 0\n") != NULL);
    cmn_buf_free(&out);
}

/* A child that scribbles over its whole page gets garbage numbers shown,
 * nothing worse: nothing on the page is an index, a length or a pointer. */
TEST(a_scribbled_page_is_only_numbers)
{
    int fd;
    ctl_child_t c = {.pid = getpid(), .state = CTL_CHILD_READY};
    c.stats = cmn_statspage_create(&fd);
    close(fd);
    memset(c.stats, 0xff, sizeof *c.stats);
    cmn_stats_snapshot_t retired = {0};
    ctl_events_t events = {0};
    ctl_metrics_t m;
    CHECK_EQ_INT(ctl_metrics_collect(&c, &retired, &events, 4, 1, 0, &m), 0);
    cmn_buf_t out = CMN_BUF_INIT;
    const char *t = rendered(&m, &out);
    CHECK(strstr(t, "spawning_requests_in_flight 0\n") != NULL); /* -1: never below zero */
    CHECK(strstr(t, "spawning_requests_total{method=\"GET\"} 18446744073709551615\n") != NULL);
    CHECK(strstr(t, "spawning_connections_closed_total{reason=\"idle\"} 18446744073709551615\n") != NULL);
    check_exposition_syntax(t);
    cmn_buf_free(&out);
    ctl_metrics_free(&m);
    cmn_statspage_release(c.stats);
}

int main(int argc, char **argv)
{
    unit_init(argc, argv);
    RUN(buckets_follow_the_bounds);
    RUN(quantiles_interpolate_inside_a_bucket);
    RUN(reload_causes_from_reasons);
    RUN(page_is_shared_and_sealed);
    RUN(collect_adds_children_and_the_retired);
    RUN(render_writes_the_exposition_format);
    RUN(closes_by_reason_render_every_reason);
    RUN(gauges_never_show_below_zero);
    RUN(a_scribbled_page_is_only_numbers);
    return unit_finish();
}
