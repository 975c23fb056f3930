/* chd_conn: one client connection of a child, whatever drives it.
 *
 * This is the transport-neutral core: buffers, the request being parsed,
 * the peer, and the I/O a request needs (reading the rest of its body,
 * writing its response). Two drivers use it:
 *   - chd_conn_loop.c, threaded mode: the libev I/O thread reads and parses
 *     heads (no thread, no GIL spent on a slow client), a worker thread runs
 *     the request; ownership moves only through the pool's locked queues.
 *   - chd_green.c, green mode: a greenlet per connection does both.
 * A connection sees the process that serves it only through a narrow
 * environment (chd_conn_env_t: the settings, the counters, how to wait for
 * the socket, whether the process is draining, the list of connections and
 * what to do when one closes), never the server itself. Waiting for the
 * socket goes through env->wait (poll() with the GIL released, or the
 * gevent hub), so the code here never blocks any other way. */
#ifndef CHD_CONN_H
#define CHD_CONN_H

#include "chd_config.h"
#include "chd_pool.h"
#include "chd_request.h"
#include "chd_stats.h"
#include "cmn_buf.h"

#include <ev.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#define CHD_PREREAD_BYTES (64 * 1024) /* body read before the app runs */
#define CHD_READ_CHUNK (16 * 1024)

struct chd_conn;

/* What a connection sees of the process serving it; one per process, set
 * up by its driver (chd_server.c in threaded mode, chd_green.c in green
 * mode) before the first connection. */
typedef struct chd_conn_env {
    const chd_config_t *cfg;
    chd_stats_t *stats;
    atomic_bool draining; /* set once the process drains: answers say "Connection: close" */
    /* How a request waits for its socket: chd_conn_poll_wait, or gevent's. */
    int (*wait)(struct chd_conn *conn, short events, int timeout_ms);
    struct chd_conn *conns; /* the open connections (the loop thread's list) */
    /* Called after a connection left the list (the end of a drain?). */
    void (*on_close)(void *owner);
    /* Called when the server answered a request itself (chd_conn_reject):
     * its status, body bytes and head; NULL: nothing (the access log). */
    void (*on_answered)(const struct chd_conn *conn, int status, uint64_t body_bytes,
                        const char *head, size_t head_len);
    void *owner; /* the driver, for on_close and the driver's own code */
} chd_conn_env_t;

/* True when responses must say "Connection: close": draining, or
 * keep-alive switched off. Any thread. */
static inline bool chd_conn_env_closing(chd_conn_env_t *env)
{
    return atomic_load(&env->draining) || env->cfg->keepalive <= 0;
}

typedef enum {
    CHD_CONN_WAITING,          /* waiting for (the rest of) a request head */
    CHD_CONN_IN_APP,           /* a request is running */
    CHD_CONN_IN_APP_DISARMED,  /* running, and the I/O thread stopped watching the socket */
} chd_conn_state_t;

/* Who answers the running request, with --timeout (chd_watchdog.h): the
 * first byte written decides, so a 504 never follows part of a response. */
typedef enum {
    CHD_ANSWER_OPEN,      /* nothing of a response written yet */
    CHD_ANSWER_APP,       /* the request's own thread began writing */
    CHD_ANSWER_TIMED_OUT, /* the watchdog took over: 504, or a close once the head was out */
} chd_answer_t;

typedef enum {
    CHD_PARSE_MORE,  /* need more bytes */
    CHD_PARSE_READY, /* a request is ready to run */
    CHD_PARSE_BAD,   /* malformed: chd_conn_reject(), then close */
    CHD_PARSE_DROP,  /* a bad or refused PROXY header (logged): close, answer nothing */
} chd_parse_result_t;

/* --proxy-protocol: what a connection's first bytes may be (decided in
 * chd_conn_new from the peer, then by the bytes; NONE once decided). */
typedef enum {
    CHD_PROXY_STAGE_NONE,     /* no PROXY header here, or it was taken: HTTP */
    CHD_PROXY_STAGE_REQUIRED, /* a trusted peer: the connection must start with one */
    CHD_PROXY_STAGE_REFUSED,  /* an untrusted peer: one is refused, plain HTTP served */
} chd_proxy_stage_t;

typedef struct chd_conn {
    chd_job_t job; /* the pool's link (threaded mode), while IN_APP */
    chd_conn_env_t *env;
    int fd;
    _Atomic chd_conn_state_t state; /* changed by the I/O thread, and by a worker ending a request */
    ev_io io;       /* threaded mode only */
    ev_timer timer; /* threaded mode only */
    void *driver;   /* green mode: the connection's Python object */
    cmn_buf_t rbuf; /* bytes read and not yet parsed */
    chd_request_t req;
    bool close_after;   /* set while serving: close once the response is out */
    bool continue_sent; /* "100 Continue" already written for this request */
    bool sent_before;   /* something was written on this connection already */
    bool nodelay;       /* TCP_NODELAY is on (set lazily: see chd_conn.c) */
    char peer_addr[INET6_ADDRSTRLEN];
    int peer_port;
    bool via_trusted_proxy; /* the peer (the PROXY header's client, once taken) is in
                               --forwarded-allow-ips: its forwarding fields are believed */
    chd_proxy_stage_t proxy_stage;
    double request_started;   /* monotonic seconds, while IN_APP */
    _Atomic chd_answer_t answer; /* with --timeout only; reset per request */
    _Atomic double last_done; /* monotonic seconds the last request ended (keep-alive clock) */
    char request_line[128];   /* "GET /path" of the running request, for the logs */
    struct chd_conn *prev, *next; /* the server's list of connections */
} chd_conn_t;

/* Takes ownership of an accepted non-blocking socket and adds the
 * connection to the server's list. Returns NULL (fd closed) when out of
 * memory. */
chd_conn_t *chd_conn_new(chd_conn_env_t *env, int fd, const struct sockaddr *peer);

/* Closes the socket, frees everything, leaves the list (then calls
 * env->on_close, which may end a drain). */
void chd_conn_destroy(chd_conn_t *conn);

/* One non-blocking read into rbuf. Returns the byte count, 0 at end of
 * file, -EAGAIN when nothing is there, or another negative errno. */
int chd_conn_read_some(chd_conn_t *conn);

/* Parses what rbuf holds. READY when the request is complete, or its head
 * is and the client awaits "100 Continue" or CHD_PREREAD_BYTES of body are
 * buffered. With --proxy-protocol, a connection's PROXY header is taken
 * (or refused: DROP) first, before any byte is parsed as HTTP; it replaces
 * peer_addr/peer_port and via_trusted_proxy, and the bytes after it stay
 * for HTTP. */
chd_parse_result_t chd_conn_parse(chd_conn_t *conn);

/* Parses bytes read elsewhere (the I/O thread's scratch buffer); what the
 * parser leaves (a pipelined next request) is kept in rbuf. Only when rbuf
 * is empty. */
chd_parse_result_t chd_conn_parse_bytes(chd_conn_t *conn, const char *data, size_t len);

/* Best-effort answer to a malformed or timed-out request (its status in
 * conn->req), then shuts the write side. The caller destroys the conn. */
void chd_conn_reject(chd_conn_t *conn);

/* The wait for a request head ran out (--header-timeout, or the keep-alive
 * time of an idle connection): answers 408 when a head had begun, nothing
 * when the connection was idle or still owed its PROXY header. The caller
 * closes the conn. */
void chd_conn_timed_out(chd_conn_t *conn);

/* Seconds on the monotonic clock. */
double chd_monotonic(void);

/* Brackets one request: begin before running it (on the thread that owns
 * the connection then: the I/O thread in threaded mode); end after the
 * response,
 * returning true when the connection stays open for the next request
 * (the request state is then reset; pipelined bytes stay in rbuf). */
void chd_conn_begin_request(chd_conn_t *conn);
bool chd_conn_end_request(chd_conn_t *conn);

/* With --timeout: claims the running request's answer for its own thread
 * (true), or false when the watchdog took it over (nothing more may be
 * written). Any thread. */
static inline bool chd_conn_claim_answer(chd_conn_t *conn)
{
    if (conn->env->cfg->timeout <= 0)
        return true;
    chd_answer_t open = CHD_ANSWER_OPEN;
    return atomic_load_explicit(&conn->answer, memory_order_relaxed) == CHD_ANSWER_APP ||
           atomic_compare_exchange_strong(&conn->answer, &open, CHD_ANSWER_APP);
}

/* chd_conn_end_request without setting the state (the caller publishes it). */
bool chd_conn_end_request_keep_state(chd_conn_t *conn);

/* True between requests with nothing of a next one received (never while
 * a PROXY header is awaited: that wait is bounded by --header-timeout). */
bool chd_conn_is_idle(chd_conn_t *conn);

/* Waits for `events` (POLLIN/POLLOUT) with poll(). Returns 0, -ETIMEDOUT
 * or -errno. The threaded mode's server wait function. */
int chd_conn_poll_wait(chd_conn_t *conn, short events, int timeout_ms);

/* While a request runs (GIL released in threaded mode): writes all of iov.
 * Returns 0, or -errno (-ETIMEDOUT when the client stops reading for
 * --body-timeout). */
int chd_conn_send(chd_conn_t *conn, struct iovec *iov, int iovcnt);

/* While a request runs: sends count bytes of file fd from *offset with
 * sendfile(), advancing *offset. Returns 0 or -errno. */
int chd_conn_sendfile(chd_conn_t *conn, int fd, off_t *offset, size_t count);

/* While a request runs: reads and parses more of the body until at least
 * one new body byte is buffered or the message is complete. Writes "100
 * Continue" first when the client asked for it. Returns 0, or -errno:
 * -ECONNRESET when the client closed mid-body, -ETIMEDOUT (the request is
 * then failed with 408), -EPROTO when the body is malformed or too large
 * (req.error_status says which). */
int chd_conn_read_body(chd_conn_t *conn);

/* While a request runs: reads and discards the unread rest of the body, up
 * to `limit` bytes. Returns 0 when the message is complete, else -errno. */
int chd_conn_discard_body(chd_conn_t *conn, size_t limit);

#endif
