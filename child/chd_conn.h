/* chd_conn: one client connection of a child, whatever drives it.
 *
 * This is the transport-neutral core: buffers, the request being parsed,
 * the peer, and the I/O a request needs (reading the rest of its body,
 * writing its response). Two drivers use it:
 *   - chd_conn_loop.c, threaded mode: the libev loop reads and parses heads
 *     (no thread, no GIL spent on a slow client); the main thread (after
 *     the loop iteration) or a worker runs the request.
 *   - chd_green_conns.c, green mode: the gevent hub's loop reads and parses
 *     heads in C; a worker greenlet (chd_green.c) runs the request.
 * Between requests both watch a connection the same way (chd_conn_watch.c:
 * opening it, reading and parsing heads, its timer).
 * A connection sees the process that serves it only through a narrow
 * environment (chd_conn_env_t: the settings, the counters, how to wait for
 * the socket, whether the process is draining, the list of connections and
 * what to do when one closes), never the server itself. Waiting for the
 * socket goes through env->wait (poll() with the GIL released, or the
 * gevent hub), so the code here never blocks any other way.
 *
 * How a connection ends has one path: chd_conn_fail() records why (a
 * chd_close_reason_t, once, in the connection) and answers what the client
 * is owed; the parser's state (chd_request_t) holds only what the bytes
 * said. Whether it stays open after a response is decided once, when the
 * response is finished (chd_conn_finish_response), and acted on by
 * chd_conn_end_request. */
#ifndef CHD_CONN_H
#define CHD_CONN_H

#include "chd_config.h"
#include "chd_pool.h"
#include "chd_request.h"
#include "chd_stats.h"
#include "chd_tls.h"
#include "cmn_buf.h"

#include <ev.h>
#include <netinet/in.h>
#include <pthread.h>
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
    /* Called when the server answered a request itself (chd_conn_fail):
     * its status, body bytes and head; NULL: nothing (the access log). */
    void (*on_answered)(const struct chd_conn *conn, int status, uint64_t body_bytes,
                        const char *head, size_t head_len);
    void *owner; /* the driver, for on_close and the driver's own code */
    /* Where connections wait between requests (chd_conn_watch.h): the
     * driver's loop. */
    struct ev_loop *loop;
    /* A request is parsed and ready to run: the driver begins it
     * (chd_conn_begin_request) and runs it. On the loop's thread. */
    void (*on_ready)(struct chd_conn *conn);
    /* Sockets of closed connections still lingering after their answer
     * (chd_linger.h; the loop thread's list): a drain waits for them. */
    struct chd_linger *lingering;
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
    CHD_PARSE_BAD,   /* malformed, or no memory for it: failed and answered; close */
    CHD_PARSE_DROP,  /* a bad or refused PROXY header: failed (logged), nothing answered; close */
} chd_parse_result_t;

/* Why a connection closes (or will, once the running response is out).
 * Recorded once, by chd_conn_fail or the response's finish; the first
 * reason recorded stays (but a request the watchdog answered closes as
 * REQUEST_TIMEOUT whatever its own thread recorded next). Counted once per
 * connection when it is destroyed (the stats page's closed[], label
 * "reason"); the values, and so the names (chd_close_reason_name), are the
 * stats page's CMN_CLOSE_*. */
typedef enum {
    CHD_CLOSE_NONE = CMN_CLOSE_NONE,         /* open, and nothing says it must close */
    /* the response said "Connection: close" (the client's wish, HTTP/1.0,
     * the app, a close-delimited body, draining, --keepalive 0) */
    CHD_CLOSE_FINISHED = CMN_CLOSE_FINISHED,
    CHD_CLOSE_IDLE = CMN_CLOSE_IDLE,         /* no next request within --keepalive */
    /* idle when the child drained (after CHD_DRAIN_GRACE) */
    CHD_CLOSE_DRAINING = CMN_CLOSE_DRAINING,
    /* the client closed between requests */
    CHD_CLOSE_CLIENT_CLOSED = CMN_CLOSE_CLIENT_CLOSED,
    /* the client closed or reset mid-request, or a read or write failed */
    CHD_CLOSE_CLIENT_GONE = CMN_CLOSE_CLIENT_GONE,
    CHD_CLOSE_MALFORMED = CMN_CLOSE_MALFORMED, /* the parser's verdict: 400, 501, 505 */
    CHD_CLOSE_TOO_LARGE = CMN_CLOSE_TOO_LARGE, /* ... past a limit: 413, 414, 431 */
    /* a bad, missing or untrusted PROXY header */
    CHD_CLOSE_PROXY_REFUSED = CMN_CLOSE_PROXY_REFUSED,
    /* the request (its head, a PROXY header, or a short body not yet handed
     * to the app) not in within --header-timeout */
    CHD_CLOSE_HEADER_TIMEOUT = CMN_CLOSE_HEADER_TIMEOUT,
    /* the body the app reads stalled for --body-timeout */
    CHD_CLOSE_BODY_TIMEOUT = CMN_CLOSE_BODY_TIMEOUT,
    /* the client stopped reading for --body-timeout */
    CHD_CLOSE_SEND_TIMEOUT = CMN_CLOSE_SEND_TIMEOUT,
    /* the request ran past --timeout: the watchdog answered 504, or cut
     * the response short */
    CHD_CLOSE_REQUEST_TIMEOUT = CMN_CLOSE_REQUEST_TIMEOUT,
    /* the body the app left unread could not be drained */
    CHD_CLOSE_UNREAD_BODY = CMN_CLOSE_UNREAD_BODY,
    CHD_CLOSE_OUT_OF_MEMORY = CMN_CLOSE_OUT_OF_MEMORY,
    /* the app failed after its head was out, or broke its own framing */
    CHD_CLOSE_APP_ERROR = CMN_CLOSE_APP_ERROR,
    /* the TLS handshake failed (garbage, no common protocol, a refused
     * client certificate) or a TLS record was bad */
    CHD_CLOSE_TLS_FAILED = CMN_CLOSE_TLS_FAILED,
    /* plain HTTP on a TLS address: answered 400 in plain text */
    CHD_CLOSE_NOT_TLS = CMN_CLOSE_NOT_TLS,
    CHD_CLOSE_REASONS = CMN_CLOSE_REASONS    /* how many there are */
} chd_close_reason_t;

/* --proxy-protocol: what a connection's first bytes may be (decided in
 * chd_conn_new from the peer, then by the bytes; NONE once decided). */
typedef enum {
    CHD_PROXY_STAGE_NONE,     /* no PROXY header here, or it was taken: HTTP */
    CHD_PROXY_STAGE_REQUIRED, /* a trusted peer: the connection must start with one */
    CHD_PROXY_STAGE_REFUSED,  /* an untrusted peer: one is refused, plain HTTP served */
} chd_proxy_stage_t;

/* How a connection's bytes travel when not straight through the socket's
 * system calls: TLS (chd_conn_tls.h installs it with chd_conn_tls_start).
 * Each call has the system call's results: a count, 0 at end of file,
 * -EAGAIN when the socket must be waited for (then conn->tls_wants says
 * for what), or another -errno. `goodbye` tells the peer the stream
 * ends (TLS: close_notify; best effort, never waiting); `end` takes the
 * transport off and frees its state (after it the connection's bytes go
 * plain, as a close_notify's aftermath must). So this module needs no
 * knowledge of TLS, and TLS depends on it, not the other way round.
 *
 * A transport's state is not thread-safe (OpenSSL's objects may be used by
 * one thread after another, never by two at once), and with --timeout two
 * threads may want it while a request runs: the request's own and the
 * watchdog's, for its 504 (chd_conn_write_overruled). So every call into
 * it is made holding conn->transport_lock, which is never held across a
 * wait (the calls never block); see "One thread at a time" in chd_conn.c. */
typedef struct chd_conn chd_conn_t;
typedef struct {
    ssize_t (*read)(chd_conn_t *conn, char *buf, size_t len);
    ssize_t (*writev)(chd_conn_t *conn, const struct iovec *iov, int iovcnt);
    ssize_t (*sendfile)(chd_conn_t *conn, int fd, off_t *offset, size_t count);
    void (*goodbye)(chd_conn_t *conn);
    void (*end)(chd_conn_t *conn);
} chd_conn_transport_t;

struct chd_conn {
    chd_job_t job; /* the link of the queue of ready requests (the pool's, green's), while IN_APP */
    chd_conn_env_t *env;
    int fd;
    _Atomic chd_conn_state_t state; /* changed by the I/O thread, and by a worker ending a request */
    ev_io io;       /* on the driver's loop (green mode: the gevent hub's) */
    ev_timer timer;
    cmn_buf_t rbuf; /* bytes read and not yet parsed */
    chd_request_t req;
    chd_close_reason_t close_reason; /* why it closes; NONE while it may stay open */
    const chd_conn_transport_t *transport; /* NULL: the socket's own system calls */
    pthread_mutex_t transport_lock; /* held for every call into the transport (see above) */
    chd_tls_conn_t *tls; /* on a TLS address (chd_conn_tls.h); NULL: plain */
    bool tls_sniffed;    /* its first byte was looked at (a handshake, not plain HTTP) */
    bool tls_ready;      /* its handshake is over */
    /* what its last call that could not finish waits for (POLLIN/POLLOUT);
     * atomic: the watchdog's 504 sets it too, while the request's thread
     * may look at what its own last call wanted */
    _Atomic short tls_wants;
    cmn_buf_t tls_proxy; /* --proxy-protocol on a TLS address: the PROXY header's bytes taken
                            off the socket so far, before the handshake (chd_conn_tls.c) */
    int fail_status;    /* the status a failure owes the client (0: none), for the
                           response machinery while a request runs */
    bool continue_sent; /* "100 Continue" already written for this request */
    bool sent_before;   /* something was written on this connection already */
    bool nodelay;       /* TCP_NODELAY is on (set lazily: see chd_conn.c) */
    char peer_addr[INET6_ADDRSTRLEN];
    int peer_port;
    int local_port; /* the port it came in on (SERVER_PORT); 0: the configured one */
    bool via_trusted_proxy; /* the peer (the PROXY header's client, once taken) is in
                               --forwarded-allow-ips: its forwarding fields are believed */
    chd_proxy_stage_t proxy_stage;
    double request_started;   /* monotonic seconds, while IN_APP */
    _Atomic chd_answer_t answer; /* with --timeout only; reset per request */
    _Atomic double last_done; /* monotonic seconds the last request ended (keep-alive clock) */
    char request_line[128];   /* "GET /path" of the running request, for the logs */
    struct chd_conn *prev, *next; /* the server's list of connections */
};

/* Takes ownership of an accepted non-blocking socket and adds the
 * connection to the server's list. Returns NULL (fd closed) when out of
 * memory. */
chd_conn_t *chd_conn_new(chd_conn_env_t *env, int fd, const struct sockaddr *peer);

/* Closes the socket, counts the close by its reason (once per
 * connection: every connection ends here), frees everything, leaves the
 * list (then calls env->on_close, which may end a drain). When the
 * connection ends with an answer while its client may still be sending
 * (chd_conn_may_lose_answer), the socket is closed lingering on env->loop
 * (chd_linger.h), so the client reads that answer whole instead of a
 * reset. On the loop's thread. */
void chd_conn_destroy(chd_conn_t *conn);

/* One non-blocking read into buf (a driver's scratch buffer, not rbuf):
 * the byte count, 0 at end of file, -EAGAIN when nothing is there, or
 * another negative errno. Counted as received. */
ssize_t chd_conn_read_into(chd_conn_t *conn, char *buf, size_t len);

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

/* --proxy-protocol: the PROXY stage on a connection's first len bytes (all
 * of them so far; the caller keeps them between calls). Returns the
 * header's length once the stage is over (the header taken: peer_addr,
 * peer_port, via_trusted_proxy replaced; 0 when an untrusted peer sent
 * none, as chd_conn_parse serves then), -EAGAIN while more bytes are
 * needed, or -EPROTO when the connection must be dropped (logged at info;
 * the caller fails it with CHD_CLOSE_PROXY_REFUSED). chd_conn_parse runs it
 * on rbuf; on a TLS address chd_conn_tls.c runs it on the cleartext before
 * the handshake. */
int chd_conn_proxy_stage(chd_conn_t *conn, const char *data, size_t len);

/* Parses bytes read elsewhere (the I/O thread's scratch buffer); what the
 * parser leaves (a pipelined next request) is kept in rbuf. Only when rbuf
 * is empty. */
chd_parse_result_t chd_conn_parse_bytes(chd_conn_t *conn, const char *data, size_t len);

/* The one failure path: the connection ends because of `why`, owing the
 * client `status` (0: nothing). Records both (the first reason recorded
 * stays; a later call changes nothing). Then:
 *   - between requests (state WAITING: on the I/O thread, or the green
 *     loop), answers at once when status is non-zero: a short text/plain
 *     response with "Connection: close" (its body the parser's reason for
 *     malformed bytes, else the reason's own words), logged at info as
 *     "peer:port: status words", passed to env->on_answered (the access
 *     log), counted when 5xx; then shuts the write side. The caller closes
 *     the connection.
 *   - while a request runs (on the thread that runs it), writes nothing:
 *     the response machinery (chd_wsgi.c) answers fail_status if its head
 *     is not out yet, and the connection closes after the response. */
void chd_conn_fail(chd_conn_t *conn, int status, chd_close_reason_t why);

/* True when closing the socket now could cost the client the answer it
 * was just given: the connection ends with an answer (a failure's, or a
 * response's), and the client may still be sending (its request not read
 * whole: a body, a head cut off by an error, plain HTTP on a TLS address
 * only peeked at; or more bytes waiting: a pipelined request). False when
 * the client left, stopped reading, or was owed nothing. */
bool chd_conn_may_lose_answer(const chd_conn_t *conn);

/* True once the connection must close (a failure, or a finished response
 * that said so). */
static inline bool chd_conn_closing(const chd_conn_t *conn)
{
    return conn->close_reason != CHD_CLOSE_NONE;
}

/* The words a failure's answer and log line give: the parser's reason for
 * malformed bytes, else the close reason's own ("request not received in
 * time"), else the reason phrase of fail_status. */
const char *chd_conn_failure_words(const chd_conn_t *conn);

/* The reason's name, for logs and counters ("header_timeout"). */
const char *chd_close_reason_name(chd_close_reason_t why);

/* A read off the socket brought end of file (n == 0) or failed (-errno,
 * not -EAGAIN): fails the connection (client closed or gone; out of
 * memory answers 500). The caller closes it. */
void chd_conn_read_failed(chd_conn_t *conn, int n);

/* The wait for a request head ran out (--header-timeout, or the keep-alive
 * time of an idle connection): fails the connection, answering 408 when a
 * head had begun, nothing when the connection was idle (IDLE, or DRAINING
 * while the child drains) or still owed its PROXY header (logged). The
 * caller closes the conn. */
void chd_conn_timed_out(chd_conn_t *conn);

/* Seconds on the monotonic clock. */
double chd_monotonic(void);

/* Brackets one request: begin before running it (on the thread that owns
 * the connection then: the I/O thread in threaded mode); end after the
 * response, acting on the keep-alive decision already made (by
 * chd_conn_finish_response, or a failure): returns true when the
 * connection stays open for the next request (the request state is then
 * reset; pipelined bytes stay in rbuf), false when it must be closed. */
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

/* With --timeout, the watchdog's answer to a request past it, on the
 * watchdog's thread, once it claimed an answer that was still OPEN (so
 * not a byte of a response is out, and the request's own thread will
 * never touch the transport again): writes iov, a short answer, through
 * the connection's transport, never waiting more than wait_ms in all for
 * the socket (a client that does not read costs the watchdog no more);
 * over TLS, when all of it went, says goodbye (close_notify). Returns 0,
 * -ETIMEDOUT, or the write's -errno. The caller shuts the socket. The
 * request's thread must let go of the connection only after this
 * returned (chd_watchdog_end waits for it). */
int chd_conn_write_overruled(chd_conn_t *conn, struct iovec *iov, int iovcnt, int wait_ms);

/* For a look at the transport's state (the TLS facts of the environ) from
 * the thread that runs the request: holds it and returns true, or returns
 * false, holding nothing, once the watchdog claimed the request's answer
 * (the state is the watchdog's from then on). Release at once: nothing may
 * wait while it is held. */
bool chd_conn_hold_transport(chd_conn_t *conn);
void chd_conn_release_transport(chd_conn_t *conn);

/* chd_conn_end_request without setting the state (the caller publishes it). */
bool chd_conn_end_request_keep_state(chd_conn_t *conn);

/* The running request's response is finished; keep_alive is the response's
 * own verdict (chd_response_finish: no "Connection: close", the body whole,
 * all of it sent). Returns the connection's keep-alive decision: that
 * verdict, unless the connection failed meanwhile (chd_conn_fail). A
 * "close" is recorded (CHD_CLOSE_FINISHED when nothing failed). On the
 * thread that runs the request. */
bool chd_conn_finish_response(chd_conn_t *conn, bool keep_alive);

/* True between requests with nothing of a next one received (never while
 * a PROXY header is awaited: that wait is bounded by --header-timeout). */
bool chd_conn_is_idle(chd_conn_t *conn);

/* Waits for `events` (POLLIN/POLLOUT) with poll(). Returns 0, -ETIMEDOUT
 * or -errno. The threaded mode's server wait function. */
int chd_conn_poll_wait(chd_conn_t *conn, short events, int timeout_ms);

/* The I/O a running request does (GIL released in threaded mode). Each
 * returns 0, or -errno after failing the connection (chd_conn_fail) with
 * what went wrong, so the caller only gives up on the response. */

/* Writes all of iov. -ETIMEDOUT (SEND_TIMEOUT) when the client stops
 * reading for --body-timeout; other errors: CLIENT_GONE. */
int chd_conn_send(chd_conn_t *conn, struct iovec *iov, int iovcnt);

/* One write of what fits in the socket now, never waiting; *iov and
 * *iovcnt are advanced past what went out (*iovcnt 0: all of it). Errors:
 * CLIENT_GONE. */
int chd_conn_send_now(chd_conn_t *conn, struct iovec **iov, int *iovcnt);

/* Sends count bytes of file fd from *offset with sendfile(), advancing
 * *offset. -EIO (APP_ERROR) when the file is shorter than announced. */
int chd_conn_sendfile(chd_conn_t *conn, int fd, off_t *offset, size_t count);

/* Reads and parses more of the body until at least one new body byte is
 * buffered or the message is complete. Writes "100 Continue" first when
 * the client asked for it. -ECONNRESET when the client closed mid-body
 * (CLIENT_GONE), -ETIMEDOUT (BODY_TIMEOUT, owing 408), -EPROTO when the
 * body is malformed or too large (MALFORMED/TOO_LARGE, owing the parser's
 * req.error_status). */
int chd_conn_read_body(chd_conn_t *conn);

/* Reads and discards the unread rest of the body, up to `limit` bytes.
 * Returns 0 when the message is complete; -EFBIG past the limit
 * (UNREAD_BODY), or read_body's errors. */
int chd_conn_discard_body(chd_conn_t *conn, size_t limit);

#endif
