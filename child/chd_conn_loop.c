/* chd_conn_loop: see chd_conn_loop.h. */
#include "chd_conn_loop.h"

#include <time.h>

/* The request machinery a connection of this driver belongs to. */
static inline chd_conn_loop_t *loop_of(const chd_conn_t *conn)
{
    return conn->env->owner;
}

/* After a request: close, or wait for the next one, as its response's
 * finish decided. Returns true when a pipelined next request is already
 * buffered. */
static bool resume_after_request(chd_conn_t *conn)
{
    if (!chd_conn_end_request(conn)) {
        chd_conn_watch_close(conn);
        return false;
    }
    struct ev_loop *loop = loop_of(conn)->loop;
    ev_io_start(loop, &conn->io);
    /* The timer is moved only when it would fire too late: when it fires,
     * it counts the idle time from last_done, as after a request a worker
     * ended (chd_conn_watch.h). */
    double limit = chd_conn_idle_limit(conn);
    if (!ev_is_active(&conn->timer) || ev_timer_remaining(loop, &conn->timer) > limit)
        chd_conn_watch_timer(conn, limit);
    return cmn_buf_unread(&conn->rbuf) > 0;
}

static bool may_run_inline(chd_conn_loop_t *cl, const chd_conn_t *conn);
static void inline_push(chd_conn_loop_t *cl, chd_conn_t *conn);

/* Starts a ready request: queued for the main thread to run itself once
 * this loop iteration is over (chd_conn_loop_run), or on the pool. The read
 * watcher stays armed while it runs: stopping and restarting it would cost
 * two epoll_ctl calls per request; if the client sends meanwhile, the
 * watcher disarms itself then (chd_conn_watch.h). */
static void dispatch(chd_conn_t *conn)
{
    /* The timer keeps running as it is: while the request runs it only
     * re-arms, and once the request is over it counts the idle time from
     * its end (chd_conn_watch.h), so a worker can end the request without the
     * loop and no request pays for moving it. */
    chd_conn_begin_request(conn);
    chd_conn_loop_t *cl = loop_of(conn);
    if (may_run_inline(cl, conn))
        inline_push(cl, conn);
    else
        chd_pool_submit(&cl->pool, &conn->job);
}

void chd_conn_loop_open(chd_conn_loop_t *cl, int fd, const struct sockaddr *peer,
                        const chd_listener_t *from)
{
    chd_conn_open(cl->env, fd, peer, from);
}

/* Worker thread, right after the request: when the connection simply stays
 * open (no close, nothing pipelined, not draining, the loop still
 * watching the socket) it is handed back to the loop's watcher directly
 * and true is returned; otherwise false and the loop's thread must end the
 * request (on_job_done). Saves waking the loop per request. */
static bool finish_in_worker(chd_conn_t *conn)
{
    if (chd_conn_env_closing(conn->env) || cmn_buf_unread(&conn->rbuf) > 0)
        return false;
    if (!chd_conn_end_request_keep_state(conn)) /* the response's finish said close */
        return false;
    /* From here the loop's armed watcher takes the next request; if it
     * disarmed itself meanwhile, it must be told (the caller will). */
    chd_conn_state_t running = CHD_CONN_IN_APP;
    return atomic_compare_exchange_strong(&conn->state, &running, CHD_CONN_WAITING);
}

void chd_conn_loop_drain(chd_conn_t *conn)
{
    chd_conn_watch_drain(conn);
}

/* --- dispatch and completion -------------------------------------------- */

/* Where a ready request runs. The main thread runs requests itself
 * (saving the hand-over to a worker: a wake-up, a GIL switch) when the
 * request is complete (no body wait) and it may take a slot of the pool
 * (none queued, fewer than --threads running), and only the main thread:
 * the standby, when it has the loop, hands everything to the pool. */
static __thread bool on_main_thread;

static bool may_run_inline(chd_conn_loop_t *cl, const chd_conn_t *conn)
{
    return on_main_thread && conn->req.phase == CHD_REQ_DONE && chd_pool_claim_outside(&cl->pool);
}

/* The requests the main thread runs next (holder of loop_lock only; linked
 * through their pool link, which is free until they go to the pool). */
static void inline_push(chd_conn_loop_t *cl, chd_conn_t *conn)
{
    conn->job.next = NULL;
    if (cl->inline_tail)
        cl->inline_tail->job.next = &conn->job;
    else
        cl->inline_head = conn;
    cl->inline_tail = conn;
}

static chd_conn_t *inline_pop(chd_conn_loop_t *cl)
{
    chd_conn_t *conn = cl->inline_head;
    if (conn) {
        cl->inline_head = (chd_conn_t *)conn->job.next;
        if (!cl->inline_head)
            cl->inline_tail = NULL;
    }
    return conn;
}

static void wake_standby(chd_conn_loop_t *cl)
{
    pthread_mutex_lock(&cl->park_lock);
    pthread_cond_signal(&cl->park_cond);
    pthread_mutex_unlock(&cl->park_lock);
}

/* Main thread, holding the loop: runs one request with the loop let go, so
 * that the standby can take it if the request runs long; returns holding
 * the loop again (asking the standby for it back if it took it). */
static void run_one_inline(chd_conn_loop_t *cl, chd_conn_t *conn)
{
    atomic_store_explicit(&cl->inline_runs, atomic_load_explicit(&cl->inline_runs,
                                                                 memory_order_relaxed) + 1,
                          memory_order_relaxed);
    atomic_store(&cl->inline_active, true);
    if (atomic_load(&cl->standby_parked))
        wake_standby(cl);
    pthread_mutex_unlock(&cl->loop_lock);
    chd_stats_gauge(&cl->env->stats->threads_busy, 1);
    cl->handler.handle_inline(conn, cl->inline_tstate);
    chd_stats_gauge(&cl->env->stats->threads_busy, -1);
    chd_control_request_done(cl->control);
    atomic_store(&cl->inline_active, false);
    if (pthread_mutex_trylock(&cl->loop_lock) != 0) {
        ev_async_send(cl->loop, &cl->handback); /* out of its wait, then it lets go */
        pthread_mutex_lock(&cl->loop_lock);
    }
}

void chd_conn_loop_run(chd_conn_loop_t *cl)
{
    on_main_thread = true;
    pthread_mutex_lock(&cl->loop_lock);
    while (!atomic_load(&cl->ended)) {
        ev_run(cl->loop, EVRUN_ONCE);
        chd_conn_t *conn;
        while ((conn = inline_pop(cl))) {
            run_one_inline(cl, conn);
            if (resume_after_request(conn))
                chd_conn_watch_input(conn); /* a pipelined request is already here */
            cl->on_quiet(cl->owner);
        }
        chd_pool_release_outside(&cl->pool);
    }
    pthread_mutex_unlock(&cl->loop_lock);
}

bool chd_conn_loop_saturated(chd_conn_loop_t *cl)
{
    return atomic_load(&cl->inline_active) && chd_pool_full(&cl->pool);
}

void chd_conn_loop_end(chd_conn_loop_t *cl)
{
    atomic_store(&cl->ended, true);
    ev_break(cl->loop, EVBREAK_ALL);
}

/* --- the standby: takes the loop while a request runs long on the main
 * thread ---------------------------------------------------------------- */

/* Holding the loop, while the main thread runs a request: what was waiting
 * for the main thread goes to the pool, and the loop runs here until the
 * request is over. */
static void take_loop(chd_conn_loop_t *cl)
{
    if (pthread_mutex_trylock(&cl->loop_lock) != 0)
        return; /* the main thread has it back already */
    if (atomic_load(&cl->inline_active)) {
        chd_conn_t *conn;
        while ((conn = inline_pop(cl)))
            chd_pool_submit(&cl->pool, &conn->job);
        while (atomic_load(&cl->inline_active) && !atomic_load(&cl->ended))
            ev_run(cl->loop, EVRUN_ONCE);
    }
    pthread_mutex_unlock(&cl->loop_lock);
}

/* Sleeps until the main thread runs a request again (or the end). */
static void park(chd_conn_loop_t *cl)
{
    pthread_mutex_lock(&cl->park_lock);
    atomic_store(&cl->standby_parked, true); /* seen by run_one_inline, or we see inline_active */
    while (!atomic_load(&cl->inline_active) && !atomic_load(&cl->standby_stopping))
        pthread_cond_wait(&cl->park_cond, &cl->park_lock);
    atomic_store(&cl->standby_parked, false);
    pthread_mutex_unlock(&cl->park_lock);
}

/* Ticks every CHD_STANDBY_TICK_NS: a request that was running on the main
 * thread at the last tick and still is (the same run: the count did not
 * move) has run at least a tick, and the loop is taken over. Parks after
 * CHD_STANDBY_PARK_TICKS ticks with no request run on the main thread. */
static void *standby_main(void *arg)
{
    chd_conn_loop_t *cl = arg;
    struct timespec tick = {0, CHD_STANDBY_TICK_NS};
    unsigned prev = 0;
    int quiet = 0;
    while (!atomic_load(&cl->standby_stopping)) {
        nanosleep(&tick, NULL);
        unsigned runs = atomic_load_explicit(&cl->inline_runs, memory_order_relaxed);
        bool active = atomic_load(&cl->inline_active);
        if (active && runs == prev)
            take_loop(cl);
        quiet = runs == prev && !active ? quiet + 1 : 0;
        prev = runs;
        if (quiet >= CHD_STANDBY_PARK_TICKS) {
            park(cl);
            quiet = 0;
        }
    }
    return NULL;
}

/* The main thread asks for the loop back: nothing to do but wake up. */
static void on_handback(struct ev_loop *loop, ev_async *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
}

/* --- the pool ------------------------------------------------------------ */

/* Worker thread: runs the request, then ends it right there when the loop
 * need not be involved (returns false), else asks for on_job_done. */
static bool on_job_run(chd_job_t *job, void *ctx)
{
    chd_conn_loop_t *cl = ctx;
    chd_conn_t *conn = (chd_conn_t *)job;
    chd_stats_gauge(&cl->env->stats->threads_busy, 1);
    cl->handler.handle(conn, cl->handler.ctx);
    chd_stats_gauge(&cl->env->stats->threads_busy, -1);
    chd_control_request_done(cl->control);
    return !finish_in_worker(conn);
}

/* The one way a pooled request's completion returns to the loop: next
 * request, or close. */
static void on_job_done(chd_job_t *job, void *ctx)
{
    chd_conn_loop_t *cl = ctx;
    chd_conn_t *conn = (chd_conn_t *)job;
    if (resume_after_request(conn))
        chd_conn_watch_input(conn); /* a pipelined request is already here */
    cl->on_quiet(cl->owner);
}

static void on_thread_start(void *ctx)
{
    chd_conn_loop_t *cl = ctx;
    if (cl->handler.thread_start)
        cl->handler.thread_start(cl->handler.ctx);
}

static void on_thread_stop(void *ctx)
{
    chd_conn_loop_t *cl = ctx;
    if (cl->handler.thread_stop)
        cl->handler.thread_stop(cl->handler.ctx);
}

/* chd_conn_env_t.on_close: a connection closed. */
static void on_conn_closed(void *owner)
{
    chd_conn_loop_t *cl = owner;
    cl->on_quiet(cl->owner);
}

int chd_conn_loop_init(chd_conn_loop_t *cl, struct ev_loop *loop, chd_conn_env_t *env,
                       chd_control_t *control, const chd_handler_t *handler)
{
    cl->loop = loop;
    cl->env = env;
    cl->control = control;
    cl->handler = *handler;
    env->owner = cl;
    env->on_close = on_conn_closed;
    env->loop = loop;
    env->on_ready = dispatch;
    cl->inline_head = cl->inline_tail = NULL;
    pthread_mutex_init(&cl->loop_lock, NULL);
    pthread_mutex_init(&cl->park_lock, NULL);
    pthread_cond_init(&cl->park_cond, NULL);
    atomic_init(&cl->inline_active, false);
    atomic_init(&cl->inline_runs, 0);
    atomic_init(&cl->standby_parked, false);
    atomic_init(&cl->standby_stopping, false);
    atomic_init(&cl->ended, false);
    ev_async_init(&cl->handback, on_handback);
    ev_async_start(loop, &cl->handback);
    chd_pool_hooks_t hooks = {.run = on_job_run, .done = on_job_done,
                              .thread_start = on_thread_start, .thread_stop = on_thread_stop,
                              .ctx = cl};
    int rc = chd_pool_start(&cl->pool, env->cfg->threads, loop, &hooks);
    if (rc == 0)
        rc = -pthread_create(&cl->standby, NULL, standby_main, cl);
    cl->standby_started = rc == 0;
    return rc;
}

void chd_conn_loop_stop(chd_conn_loop_t *cl)
{
    if (cl->standby_started) {
        atomic_store(&cl->standby_stopping, true);
        wake_standby(cl);
        pthread_join(cl->standby, NULL);
        cl->standby_started = false;
    }
    chd_pool_stop(&cl->pool);
}

int chd_conn_loop_busy(chd_conn_loop_t *cl)
{
    return chd_pool_busy(&cl->pool) + atomic_load(&cl->inline_active) + (cl->inline_head != NULL);
}
