/* chd_heartbeat: keeps answering the controller while the I/O thread runs
 * a request itself (the --threads 1 fast path, chd_server_run_inline).
 *
 * Normally the event loop answers heartbeats. While it is busy inside an
 * inline request (an app that sleeps, say) it cannot, and the controller
 * would declare the child dead after --deadman-timeout. So a small thread
 * checks four times a second whether an inline request has run longer than
 * CHD_HEARTBEAT_TAKEOVER; only then does it take the control channel over
 * until the request ends: it answers pings (that request is reported as
 * the running one), and passes "stop" on to the loop. Short requests cost
 * two atomic stores and a load each, no wake-up. */
#ifndef CHD_HEARTBEAT_H
#define CHD_HEARTBEAT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#define CHD_HEARTBEAT_TAKEOVER 0.5 /* seconds an inline request runs before the takeover */

struct chd_conn;

/* Reads and answers what the controller sent, on behalf of the busy I/O
 * thread that runs `running`. Returns false once the channel is gone (the
 * thread then stops reading). Called on the heartbeat thread. */
typedef bool (*chd_heartbeat_answer_fn)(void *ctx, const struct chd_conn *running);

typedef struct {
    int control_fd;
    chd_heartbeat_answer_fn answer;
    void *ctx;
    pthread_t thread;
    pthread_mutex_t reading; /* held by the thread while it owns the channel */
    atomic_bool inline_active;
    atomic_bool thread_reading;
    atomic_bool stopping;
    _Atomic double inline_started;
    const struct chd_conn *inline_conn;
} chd_heartbeat_t;

/* Starts the thread, which reads control_fd through `answer` during long
 * inline requests. Returns 0 or -errno. I/O thread. */
int chd_heartbeat_start(chd_heartbeat_t *hb, int control_fd, chd_heartbeat_answer_fn answer,
                        void *ctx);

/* Joins the thread. I/O thread. */
void chd_heartbeat_stop(chd_heartbeat_t *hb);

/* Bracket an inline request (I/O thread). After _end returns, the thread
 * no longer touches the control channel. */
void chd_heartbeat_inline_begin(chd_heartbeat_t *hb, const struct chd_conn *conn);
void chd_heartbeat_inline_end(chd_heartbeat_t *hb);

#endif
