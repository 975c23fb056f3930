/* chd_conn: one client connection of a child.
 *
 * Lifecycle and ownership. The I/O thread owns a connection while it waits
 * for and parses a request head (and, up to CHD_PREREAD_BYTES, its body):
 * no thread and no GIL is spent on a slow client. Once a request is ready
 * the connection is handed to the worker pool; the worker owns it until the
 * response is written (it may read the rest of the body and write with the
 * blocking helpers below, the GIL released), then hands it back, and the
 * I/O thread either parses the next pipelined request, waits for one
 * (keep-alive), or closes. Ownership moves only through the pool's locked
 * queues, so no field is ever touched by two threads at once. */
#ifndef CHD_CONN_H
#define CHD_CONN_H

#include "chd_pool.h"
#include "chd_request.h"
#include "cmn_buf.h"

#include <ev.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#define CHD_PREREAD_BYTES (64 * 1024) /* body read on the I/O thread before dispatch */
#define CHD_READ_CHUNK (16 * 1024)

struct chd_server;

typedef enum {
    CHD_CONN_WAITING, /* I/O thread: waiting for (the rest of) a request */
    CHD_CONN_IN_APP,  /* a worker owns it */
} chd_conn_state_t;

typedef struct chd_conn {
    chd_job_t job; /* the pool's link; while IN_APP */
    struct chd_server *server;
    int fd;
    chd_conn_state_t state;
    ev_io io;
    ev_timer timer;
    cmn_buf_t rbuf;       /* bytes read and not yet parsed */
    chd_request_t req;
    bool close_after;     /* set by the worker: close once the response is out */
    bool continue_sent;   /* "100 Continue" already written for this request */
    char peer_addr[INET6_ADDRSTRLEN];
    int peer_port;
    bool via_trusted_proxy; /* the peer is in --forwarded-allow-ips */
    struct chd_conn *prev, *next; /* the server's list of connections */
} chd_conn_t;

/* I/O thread: takes ownership of an accepted socket and starts reading.
 * Returns NULL (and closes fd) when out of memory. */
chd_conn_t *chd_conn_open(struct chd_server *server, int fd, const struct sockaddr *peer);

/* I/O thread: called by the pool when the worker finished the request. */
void chd_conn_request_done(chd_conn_t *conn);

/* I/O thread: closes the connection if it is between requests (used when
 * the child drains). Returns true when it was closed. */
bool chd_conn_close_if_idle(chd_conn_t *conn);

/* Worker, GIL released: writes all of iov. Returns 0, or -errno
 * (-ETIMEDOUT when the client stops reading for --body-timeout). */
int chd_conn_send(chd_conn_t *conn, struct iovec *iov, int iovcnt);

/* Worker, GIL released: sends count bytes of file fd from *offset with
 * sendfile(), advancing *offset. Returns 0 or -errno. */
int chd_conn_sendfile(chd_conn_t *conn, int fd, off_t *offset, size_t count);

/* Worker, GIL released: reads and parses more of the request body until at
 * least one new body byte is buffered or the message is complete. Writes
 * "100 Continue" first when the client asked for it. Returns 0, or -errno:
 * -ECONNRESET when the client closed mid-body, -ETIMEDOUT, -EPROTO when the
 * body is malformed. */
int chd_conn_read_body(chd_conn_t *conn);

/* Worker, GIL released: reads and discards the unread rest of the body, up
 * to `limit` bytes. Returns 0 when the message is complete, else -errno. */
int chd_conn_discard_body(chd_conn_t *conn, size_t limit);

#endif
