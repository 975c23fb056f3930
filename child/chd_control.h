/* chd_control: the child's side of the control channel, after start-up.
 *
 * Answers the controller's heartbeat with the child's vital signs (requests
 * served, requests running and the oldest of them, connections open),
 * reopens the log files when asked, counts finished requests and asks to
 * be recycled once --max-requests is reached. Reading runs on the thread
 * that owns the connection list (the I/O thread in threaded mode, the main
 * thread in green mode); chd_control_request_done may run on any thread.
 * Never needs the GIL. */
#ifndef CHD_CONTROL_H
#define CHD_CONTROL_H

#include "chd_server.h"

typedef enum {
    CHD_CONTROL_IDLE, /* nothing that concerns the caller */
    CHD_CONTROL_STOP, /* "stop": drain */
    CHD_CONTROL_GONE, /* the controller went away: drain */
} chd_control_event_t;

/* Reads and handles every queued message (the channel is non-blocking). */
chd_control_event_t chd_control_read(chd_server_t *s);

/* The same, from the heartbeat thread while the I/O thread runs `running`
 * inline: the heartbeat answer reports that request (the connection list
 * belongs to the busy I/O thread and is not looked at). */
chd_control_event_t chd_control_read_during_inline(chd_server_t *s, const chd_conn_t *running);

/* A request finished: count it; past --max-requests, ask for a successor. */
void chd_control_request_done(chd_server_t *s);

#endif
