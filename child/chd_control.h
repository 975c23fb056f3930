/* chd_control: the child's side of the control channel, after start-up.
 *
 * Answers the controller's heartbeat with the child's vital signs (requests
 * served, requests running and the oldest of them, connections open),
 * reopens the log files when asked, takes the rotated TLS session ticket
 * keys, counts finished requests and asks to
 * be recycled once --max-requests is reached. Reading runs on the thread
 * that owns the connection list (the one holding the event loop in
 * threaded mode, the main thread in green mode); chd_control_request_done
 * may run on any thread.
 * Never needs the GIL. */
#ifndef CHD_CONTROL_H
#define CHD_CONTROL_H

#include "chd_conn.h"

#include <stdatomic.h>
#include <stdbool.h>

/* The child's end of the channel, and what its answers are made of. */
typedef struct {
    int fd;                    /* the control channel (non-blocking) */
    chd_conn_env_t *env;       /* settings, counters, the connection list */
    atomic_bool recycle_asked; /* "recycle" sent after --max-requests */
    chd_tls_ctx_t *tls;        /* takes the rotated ticket keys ("tls_keys"); NULL: no TLS */
} chd_control_t;

/* Sets up the channel's end (fd stays the caller's). */
void chd_control_init(chd_control_t *ctl, int fd, chd_conn_env_t *env);

typedef enum {
    CHD_CONTROL_IDLE, /* nothing that concerns the caller */
    CHD_CONTROL_STOP, /* "stop": drain */
    CHD_CONTROL_GONE, /* the controller went away: drain */
} chd_control_event_t;

/* Reads and handles every queued message (the channel is non-blocking). */
chd_control_event_t chd_control_read(chd_control_t *ctl);

/* A request finished: count it; past --max-requests, ask for a successor. */
void chd_control_request_done(chd_control_t *ctl);

#endif
