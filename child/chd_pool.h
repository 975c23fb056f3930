/* chd_pool: the worker threads that run requests.
 *
 * The thread holding the event loop (the loop's thread, whichever it is:
 * chd_conn_loop.h) submits jobs; each of N worker threads takes one and
 * calls `run` (on the worker thread). When `run` returns true the job is
 * queued as done and the loop's thread, woken through an ev_async, calls
 * `done` (on the loop's thread, so it may touch the event loop); when it
 * returns false the job was finished on the worker and the loop's thread is
 * not bothered. A job belongs to the pool from submit until then. The pool knows nothing of HTTP or Python:
 * `thread_start`/`thread_stop` hooks let the caller set up per-thread state
 * (a Python thread state, say).
 *
 * At most nthreads jobs run at once, counting one run outside the pool: the
 * main thread may claim a slot (chd_pool_claim_outside) to run requests
 * itself, and while it holds it one worker fewer takes jobs, so
 * `--threads N` still means N requests at most in the app. */
#ifndef CHD_POOL_H
#define CHD_POOL_H

#include <ev.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

typedef struct chd_job {
    struct chd_job *next;
} chd_job_t;

typedef struct {
    bool (*run)(chd_job_t *job, void *ctx);  /* worker thread; true: call done */
    void (*done)(chd_job_t *job, void *ctx); /* the loop's thread */
    void (*thread_start)(void *ctx);         /* each worker, before its first job */
    void (*thread_stop)(void *ctx);          /* each worker, before it exits */
    void *ctx;
} chd_pool_hooks_t;

typedef struct {
    chd_pool_hooks_t hooks;
    struct ev_loop *loop;
    pthread_t *threads;
    int nthreads;        /* started so far */
    int limit;           /* jobs that may run at once, the outside one included */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    chd_job_t *todo_head, *todo_tail;
    chd_job_t *done_head, *done_tail;
    ev_async done_async;
    bool stopping;
    bool outside;        /* a slot is claimed outside the pool (the lock guards writes) */
    int running;         /* jobs the workers are running (under the lock) */
    atomic_int queued;   /* jobs submitted and not yet taken by a worker */
    atomic_int busy;     /* jobs submitted and not yet run to the end */
} chd_pool_t;

/* Starts nthreads workers. Call on the loop's thread. Returns 0 or -errno. */
int chd_pool_start(chd_pool_t *pool, int nthreads, struct ev_loop *loop,
                   const chd_pool_hooks_t *hooks);

/* Queues a job (the loop's thread). */
void chd_pool_submit(chd_pool_t *pool, chd_job_t *job);

/* Jobs submitted and not yet passed to `done` (any thread). */
static inline int chd_pool_busy(chd_pool_t *pool) { return atomic_load(&pool->busy); }

/* True when no slot is free (a hint: read without the lock). */
static inline bool chd_pool_full(const chd_pool_t *pool)
{
    return *(const volatile int *)&pool->running + (*(const volatile bool *)&pool->outside ? 1 : 0) >=
           pool->limit;
}

/* Claims the slot for running jobs outside the pool (one caller only: the
 * main thread). True when it holds it: already, or now because no job is
 * queued and fewer than nthreads run. */
bool chd_pool_claim_outside(chd_pool_t *pool);

/* Gives the slot back when held and a job is queued, which then starts;
 * with nothing queued the slot stays claimed (claiming it again is free;
 * a job submitted later is queued behind it until the next call). */
void chd_pool_release_outside(chd_pool_t *pool);

/* Lets the workers finish their current jobs, then joins them. Jobs still
 * queued are not run. Call after the loop has ended. */
void chd_pool_stop(chd_pool_t *pool);

#endif
