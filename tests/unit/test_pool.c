/* Unit tests for child/chd_pool.h: at most nthreads jobs run at once,
 * counting the slot claimed outside the pool, and queued jobs go first. */
#include "chd_pool.h"
#include "unit.h"

#include <stdatomic.h>
#include <time.h>

typedef struct {
    chd_job_t job;
    atomic_bool release; /* the job returns once set */
} test_job_t;

static atomic_int started, finished, done_called, running_now, most_at_once;

static bool run_job(chd_job_t *job, void *ctx)
{
    (void)ctx;
    test_job_t *t = (test_job_t *)job;
    int now = atomic_fetch_add(&running_now, 1) + 1;
    int most = atomic_load(&most_at_once);
    while (now > most && !atomic_compare_exchange_weak(&most_at_once, &most, now))
        ;
    atomic_fetch_add(&started, 1);
    while (!atomic_load(&t->release)) {
        struct timespec ms = {0, 1000000L};
        nanosleep(&ms, NULL);
    }
    atomic_fetch_sub(&running_now, 1);
    atomic_fetch_add(&finished, 1);
    return true;
}

static void job_done(chd_job_t *job, void *ctx)
{
    (void)job;
    (void)ctx;
    atomic_fetch_add(&done_called, 1);
}

static void reset_counts(void)
{
    atomic_store(&started, 0);
    atomic_store(&finished, 0);
    atomic_store(&done_called, 0);
    atomic_store(&running_now, 0);
    atomic_store(&most_at_once, 0);
}

/* Waits up to a second for *counter to reach want. */
static bool wait_for(atomic_int *counter, int want)
{
    for (int i = 0; i < 1000 && atomic_load(counter) < want; i++) {
        struct timespec ms = {0, 1000000L};
        nanosleep(&ms, NULL);
    }
    return atomic_load(counter) >= want;
}

static void settle(void)
{
    struct timespec ms50 = {0, 50000000L};
    nanosleep(&ms50, NULL);
}

static const chd_pool_hooks_t hooks = {.run = run_job, .done = job_done};

TEST(outside_slot_holds_back_the_only_worker)
{
    reset_counts();
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    chd_pool_t pool;
    CHECK_EQ_INT(chd_pool_start(&pool, 1, loop, &hooks), 0);
    CHECK(chd_pool_claim_outside(&pool));
    CHECK(chd_pool_claim_outside(&pool)); /* held already */
    test_job_t a = {0};
    chd_pool_submit(&pool, &a.job);
    settle();
    CHECK_EQ_INT(atomic_load(&started), 0); /* the one slot is outside */
    CHECK_EQ_INT(chd_pool_busy(&pool), 1);
    chd_pool_release_outside(&pool);
    CHECK(wait_for(&started, 1));
    atomic_store(&a.release, true);
    CHECK(wait_for(&finished, 1));
    while (atomic_load(&done_called) < 1)
        ev_run(loop, EVRUN_ONCE);
    CHECK_EQ_INT(chd_pool_busy(&pool), 0);
    chd_pool_stop(&pool);
    ev_loop_destroy(loop);
}

TEST(queued_jobs_go_before_the_outside_claim)
{
    reset_counts();
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    chd_pool_t pool;
    CHECK_EQ_INT(chd_pool_start(&pool, 1, loop, &hooks), 0);
    test_job_t a = {0}, b = {0};
    chd_pool_submit(&pool, &a.job);
    CHECK(wait_for(&started, 1));
    chd_pool_submit(&pool, &b.job); /* queued: the worker is busy */
    CHECK(!chd_pool_claim_outside(&pool));
    atomic_store(&a.release, true);
    atomic_store(&b.release, true);
    CHECK(wait_for(&finished, 2));
    CHECK(chd_pool_claim_outside(&pool)); /* nothing queued, nothing running */
    chd_pool_stop(&pool);
    ev_loop_destroy(loop);
}

TEST(the_slot_is_kept_until_a_job_waits_for_it)
{
    reset_counts();
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    chd_pool_t pool;
    CHECK_EQ_INT(chd_pool_start(&pool, 1, loop, &hooks), 0);
    CHECK(chd_pool_claim_outside(&pool));
    chd_pool_release_outside(&pool); /* nothing queued: kept */
    test_job_t a = {0};
    chd_pool_submit(&pool, &a.job);
    settle();
    CHECK_EQ_INT(atomic_load(&started), 0);
    chd_pool_release_outside(&pool); /* now a job waits: given back */
    CHECK(wait_for(&started, 1));
    atomic_store(&a.release, true);
    CHECK(wait_for(&finished, 1));
    chd_pool_stop(&pool);
    ev_loop_destroy(loop);
}

TEST(no_more_than_nthreads_at_once_with_the_outside_slot)
{
    reset_counts();
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    chd_pool_t pool;
    CHECK_EQ_INT(chd_pool_start(&pool, 3, loop, &hooks), 0);
    CHECK(chd_pool_claim_outside(&pool));
    test_job_t jobs[4] = {0};
    for (int i = 0; i < 4; i++)
        chd_pool_submit(&pool, &jobs[i].job);
    CHECK(wait_for(&started, 2));
    settle();
    CHECK_EQ_INT(atomic_load(&started), 2); /* 3 slots, one outside */
    chd_pool_release_outside(&pool);
    CHECK(wait_for(&started, 3));
    settle();
    CHECK_EQ_INT(atomic_load(&started), 3);
    for (int i = 0; i < 4; i++)
        atomic_store(&jobs[i].release, true);
    CHECK(wait_for(&finished, 4));
    CHECK_EQ_INT(atomic_load(&most_at_once), 3);
    chd_pool_stop(&pool);
    ev_loop_destroy(loop);
}

int main(int argc, char **argv)
{
    unit_init(argc, argv);
    RUN(outside_slot_holds_back_the_only_worker);
    RUN(queued_jobs_go_before_the_outside_claim);
    RUN(the_slot_is_kept_until_a_job_waits_for_it);
    RUN(no_more_than_nthreads_at_once_with_the_outside_slot);
    return unit_finish();
}
