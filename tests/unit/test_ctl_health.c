/* Unit tests for controller/ctl_health.h, the supervisor's health policy:
 * fed children records and memory figures (no processes), it must return
 * exactly the kill and replace decisions --deadman-timeout,
 * --graceful-timeout, --timeout, --max-requests, --max-age and
 * --max-memory call for, and nothing else. */
#include "ctl_health.h"
#include "unit.h"

#define NOW 1000.0
#define MB (1024LL * 1024)

static ctl_config_t cfg;
static ctl_child_t kids[4];

/* Memory figures by pid (pid 100 + i is kids[i]); -1: unknown. */
static long long rss_by_kid[4];

static long long fake_rss(pid_t pid)
{
    int i = (int)pid - 100;
    return i >= 0 && i < 4 ? rss_by_kid[i] : -1;
}

/* The decisions of one check. */
static struct {
    int n;
    ctl_health_decision_t d[8];
} seen;

static void collect(void *ctx, const ctl_health_decision_t *d)
{
    (void)ctx;
    if (seen.n < 8)
        seen.d[seen.n] = *d;
    seen.n++;
}

/* `n` ready, healthy children (answered just now, young, small), linked in
 * order, with the limits off. */
static ctl_child_t *healthy(int n)
{
    memset(&cfg, 0, sizeof cfg);
    cfg.deadman_timeout = 10;
    cfg.graceful_timeout = 30;
    memset(kids, 0, sizeof kids);
    for (int i = 0; i < n; i++) {
        kids[i].pid = 100 + i;
        kids[i].state = CTL_CHILD_READY;
        kids[i].started_at = kids[i].ready_at = NOW - 60;
        kids[i].last_pong = NOW - 1;
        kids[i].next = i + 1 < n ? &kids[i + 1] : NULL;
        rss_by_kid[i] = 10 * MB;
    }
    return &kids[0];
}

static void check(ctl_child_t *children)
{
    memset(&seen, 0, sizeof seen);
    ctl_health_check(&cfg, children, NOW, fake_rss, collect, NULL);
}

/* No decision at all. */
#define CHECK_NONE(children_)                                                                      \
    do {                                                                                           \
        check(children_);                                                                          \
        CHECK_EQ_INT(seen.n, 0);                                                                   \
    } while (0)

/* Exactly one decision: `action` for `cause` on `child`. */
#define CHECK_ONE(action_, cause_, child_)                                                         \
    do {                                                                                           \
        CHECK_EQ_INT(seen.n, 1);                                                                   \
        CHECK_EQ_INT(seen.d[0].action, action_);                                                   \
        CHECK_EQ_INT(seen.d[0].cause, cause_);                                                     \
        CHECK(seen.d[0].child == (child_));                                                        \
    } while (0)

TEST(healthy_children_need_nothing)
{
    CHECK_NONE(healthy(3));
}

TEST(heartbeat_deadline)
{
    ctl_child_t *list = healthy(2);
    kids[1].last_pong = NOW - 10; /* exactly the deadline: not yet */
    CHECK_NONE(list);
    kids[1].last_pong = NOW - 11;
    check(list);
    CHECK_ONE(CTL_HEALTH_KILL, CTL_CAUSE_HEARTBEAT, &kids[1]);
    CHECK(strstr(seen.d[0].message, "child 101 has not answered heartbeats for 11 s") != NULL);
    /* What it was running goes into the log line. */
    kids[1].active = 1;
    snprintf(kids[1].oldest_request, sizeof kids[1].oldest_request, "GET /slow");
    check(list);
    CHECK(strstr(seen.d[0].message, "it was running GET /slow") != NULL);
    /* A child still starting is not held to heartbeats. */
    kids[1].state = CTL_CHILD_STARTING;
    CHECK_NONE(list);
}

TEST(drain_deadline)
{
    ctl_child_t *list = healthy(1);
    kids[0].state = CTL_CHILD_DRAINING;
    kids[0].last_pong = NOW - 100; /* a draining child is judged by its drain only */
    kids[0].drain_at = NOW - 30;
    CHECK_NONE(list);
    kids[0].drain_at = NOW - 31;
    check(list);
    CHECK_ONE(CTL_HEALTH_KILL, CTL_CAUSE_DRAIN_DEADLINE, &kids[0]);
    CHECK_EQ_STR(seen.d[0].reason, "graceful-timeout");
}

TEST(max_age)
{
    ctl_child_t *list = healthy(2);
    kids[0].age_limit = 120; /* --max-age plus its stagger */
    kids[1].age_limit = 30;
    check(list);
    CHECK_ONE(CTL_HEALTH_REPLACE, CTL_CAUSE_MAX_AGE, &kids[1]);
    CHECK_EQ_STR(seen.d[0].reason, "--max-age");
    /* Once its successor is starting, it is not asked for again. */
    kids[1].being_replaced = true;
    CHECK_NONE(list);
    /* Neither is one that is not serving. */
    kids[1].being_replaced = false;
    kids[1].state = CTL_CHILD_DRAINING;
    kids[1].drain_at = NOW;
    CHECK_NONE(list);
}

TEST(max_requests_and_timeout)
{
    ctl_child_t *list = healthy(2);
    kids[0].wants_recycle = true;
    check(list);
    CHECK_ONE(CTL_HEALTH_REPLACE, CTL_CAUSE_MAX_REQUESTS, &kids[0]);

    list = healthy(2);
    cfg.timeout = 30;
    kids[1].active = 1;
    kids[1].oldest = 31;
    snprintf(kids[1].oldest_request, sizeof kids[1].oldest_request, "POST /upload");
    check(list);
    CHECK_ONE(CTL_HEALTH_REPLACE, CTL_CAUSE_TIMEOUT, &kids[1]);
    CHECK(strstr(seen.d[0].message, "request POST /upload has run for 31 s") != NULL);
    kids[1].timeout_reported = true; /* reported once: the request still runs */
    CHECK_NONE(list);
}

TEST(max_memory_replaces_the_largest)
{
    ctl_child_t *list = healthy(3);
    cfg.max_memory = 100 * MB;
    rss_by_kid[0] = 30 * MB;
    rss_by_kid[1] = 50 * MB;
    rss_by_kid[2] = 20 * MB; /* 100 MB in all: at the limit, not over */
    CHECK_NONE(list);
    rss_by_kid[2] = 21 * MB;
    check(list);
    CHECK_ONE(CTL_HEALTH_REPLACE, CTL_CAUSE_MAX_MEMORY, &kids[1]);
    CHECK(strstr(seen.d[0].reason, "children use 101 MB of 100 MB; it uses 50 MB") != NULL);
    /* The largest already being replaced: the next largest goes. */
    kids[1].being_replaced = true;
    check(list);
    CHECK_ONE(CTL_HEALTH_REPLACE, CTL_CAUSE_MAX_MEMORY, &kids[0]);
    /* A child whose memory cannot be read counts for nothing. */
    kids[1].being_replaced = false;
    rss_by_kid[1] = -1;
    CHECK_NONE(list);
    /* A draining child's memory counts, but it is not the one replaced. */
    rss_by_kid[1] = 80 * MB;
    kids[1].state = CTL_CHILD_DRAINING;
    kids[1].drain_at = NOW;
    check(list);
    CHECK_ONE(CTL_HEALTH_REPLACE, CTL_CAUSE_MAX_MEMORY, &kids[0]);
    /* Off: nothing. */
    cfg.max_memory = 0;
    CHECK_NONE(list);
}

TEST(several_decisions_in_one_tick)
{
    ctl_child_t *list = healthy(3);
    cfg.max_memory = 10 * MB;
    kids[0].last_pong = NOW - 60;
    kids[2].age_limit = 1;
    check(list);
    CHECK_EQ_INT(seen.n, 3);
    CHECK_EQ_INT(seen.d[0].cause, CTL_CAUSE_HEARTBEAT);
    CHECK(seen.d[0].child == &kids[0]);
    CHECK_EQ_INT(seen.d[1].cause, CTL_CAUSE_MAX_AGE);
    CHECK(seen.d[1].child == &kids[2]);
    CHECK_EQ_INT(seen.d[2].cause, CTL_CAUSE_MAX_MEMORY);
}

int main(int argc, char **argv)
{
    unit_init(argc, argv);
    RUN(healthy_children_need_nothing);
    RUN(heartbeat_deadline);
    RUN(drain_deadline);
    RUN(max_age);
    RUN(max_requests_and_timeout);
    RUN(max_memory_replaces_the_largest);
    RUN(several_decisions_in_one_tick);
    return unit_finish();
}
