/* chd_pool: see chd_pool.h. */
#include "chd_pool.h"

#include <errno.h>
#include <stdlib.h>

/* Pops the head of a singly linked queue; NULL when empty. */
static chd_job_t *queue_pop(chd_job_t **head, chd_job_t **tail)
{
    chd_job_t *job = *head;
    if (job) {
        *head = job->next;
        if (!*head)
            *tail = NULL;
        job->next = NULL;
    }
    return job;
}

static void queue_push(chd_job_t **head, chd_job_t **tail, chd_job_t *job)
{
    job->next = NULL;
    if (*tail)
        (*tail)->next = job;
    else
        *head = job;
    *tail = job;
}

/* A job is queued and a slot is free (under the lock). */
static bool may_take(const chd_pool_t *pool)
{
    return pool->todo_head && pool->running + (pool->outside ? 1 : 0) < pool->limit;
}

static void *worker_main(void *arg)
{
    chd_pool_t *pool = arg;
    if (pool->hooks.thread_start)
        pool->hooks.thread_start(pool->hooks.ctx);
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (!pool->stopping && !may_take(pool))
            pthread_cond_wait(&pool->wake, &pool->lock);
        if (pool->stopping)
            break;
        chd_job_t *job = queue_pop(&pool->todo_head, &pool->todo_tail);
        atomic_fetch_sub(&pool->queued, 1);
        pool->running++;
        pthread_mutex_unlock(&pool->lock);
        bool needs_done = pool->hooks.run(job, pool->hooks.ctx);
        atomic_fetch_sub(&pool->busy, 1);
        pthread_mutex_lock(&pool->lock);
        pool->running--;
        if (needs_done) {
            queue_push(&pool->done_head, &pool->done_tail, job);
            ev_async_send(pool->loop, &pool->done_async);
        }
    }
    pthread_mutex_unlock(&pool->lock);
    if (pool->hooks.thread_stop)
        pool->hooks.thread_stop(pool->hooks.ctx);
    return NULL;
}

static void on_done(struct ev_loop *loop, ev_async *w, int revents)
{
    (void)loop;
    (void)revents;
    chd_pool_t *pool = w->data;
    pthread_mutex_lock(&pool->lock);
    chd_job_t *list = pool->done_head;
    pool->done_head = pool->done_tail = NULL;
    pthread_mutex_unlock(&pool->lock);
    while (list) {
        chd_job_t *next = list->next;
        pool->hooks.done(list, pool->hooks.ctx);
        list = next;
    }
}

int chd_pool_start(chd_pool_t *pool, int nthreads, struct ev_loop *loop,
                   const chd_pool_hooks_t *hooks)
{
    pool->hooks = *hooks;
    pool->loop = loop;
    pool->todo_head = pool->todo_tail = pool->done_head = pool->done_tail = NULL;
    pool->stopping = false;
    pool->outside = false;
    pool->running = 0;
    pool->limit = nthreads;
    atomic_init(&pool->queued, 0);
    atomic_init(&pool->busy, 0);
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->wake, NULL);
    ev_async_init(&pool->done_async, on_done);
    pool->done_async.data = pool;
    ev_async_start(loop, &pool->done_async);
    pool->threads = calloc((size_t)nthreads, sizeof *pool->threads);
    if (!pool->threads)
        return -ENOMEM;
    for (pool->nthreads = 0; pool->nthreads < nthreads; pool->nthreads++) {
        int rc = pthread_create(&pool->threads[pool->nthreads], NULL, worker_main, pool);
        if (rc != 0)
            return -rc;
    }
    return 0;
}

void chd_pool_submit(chd_pool_t *pool, chd_job_t *job)
{
    atomic_fetch_add(&pool->busy, 1);
    atomic_fetch_add(&pool->queued, 1);
    pthread_mutex_lock(&pool->lock);
    queue_push(&pool->todo_head, &pool->todo_tail, job);
    if (may_take(pool))
        pthread_cond_signal(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
}

bool chd_pool_claim_outside(chd_pool_t *pool)
{
    if (atomic_load_explicit(&pool->queued, memory_order_relaxed) > 0)
        return false; /* queued jobs go first */
    if (pool->outside)
        return true;
    pthread_mutex_lock(&pool->lock);
    if (!pool->todo_head && pool->running < pool->limit)
        pool->outside = true;
    pthread_mutex_unlock(&pool->lock);
    return pool->outside;
}

void chd_pool_release_outside(chd_pool_t *pool)
{
    /* Kept while nothing waits for it: taking it again is then free. */
    if (!pool->outside || atomic_load(&pool->queued) == 0)
        return;
    pthread_mutex_lock(&pool->lock);
    pool->outside = false;
    if (may_take(pool))
        pthread_cond_signal(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
}

void chd_pool_stop(chd_pool_t *pool)
{
    pthread_mutex_lock(&pool->lock);
    pool->stopping = true;
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    for (int i = 0; i < pool->nthreads; i++)
        pthread_join(pool->threads[i], NULL);
    free(pool->threads);
    pool->threads = NULL;
    ev_async_stop(pool->loop, &pool->done_async);
}
