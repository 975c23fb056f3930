/* chd_green_conns: see chd_green_conns.h. */
#include "chd_green_conns.h"

static inline chd_green_conns_t *conns_of(const chd_conn_t *conn) { return conn->env->owner; }

/* The request is ready: it counts as running from now (a worker takes it
 * at the hub's next turn), so bytes arriving meanwhile wait in the socket. */
static void queue_ready(chd_conn_t *conn)
{
    chd_green_conns_t *gc = conns_of(conn);
    chd_conn_begin_request(conn);
    conn->job.next = NULL;
    if (gc->ready_tail)
        gc->ready_tail->next = &conn->job;
    else
        gc->ready_head = &conn->job;
    gc->ready_tail = &conn->job;
}

chd_conn_t *chd_green_conns_next_ready(chd_green_conns_t *gc)
{
    chd_job_t *job = gc->ready_head;
    if (!job)
        return NULL;
    gc->ready_head = job->next;
    if (!gc->ready_head)
        gc->ready_tail = NULL;
    return (chd_conn_t *)job; /* job is chd_conn_t's first member */
}

void chd_green_conns_open(chd_green_conns_t *gc, int fd, const struct sockaddr *peer,
                          const chd_listener_t *from)
{
    chd_conn_open(gc->env, fd, peer, from);
}

void chd_green_conns_finish(chd_conn_t *conn)
{
    bool disarmed = atomic_load(&conn->state) == CHD_CONN_IN_APP_DISARMED;
    if (!chd_conn_end_request(conn)) {
        chd_conn_watch_close(conn);
        return;
    }
    if (disarmed)
        ev_io_start(conns_of(conn)->loop, &conn->io);
    if (cmn_buf_unread(&conn->rbuf) > 0)
        chd_conn_watch_input(conn); /* pipelined */
}

void chd_green_conns_drain(chd_green_conns_t *gc)
{
    for (chd_conn_t *conn = gc->env->conns; conn; conn = conn->next)
        chd_conn_watch_drain(conn);
}

void chd_green_conns_init(chd_green_conns_t *gc, struct ev_loop *loop, chd_conn_env_t *env)
{
    gc->loop = loop;
    gc->env = env;
    gc->ready_head = gc->ready_tail = NULL;
    env->owner = gc;
    env->loop = loop;
    env->on_ready = queue_ready;
}
