/* chd_response: the response head and its framing, in plain C.
 *
 * Collects the status and the application's header fields (validated: a
 * field name must be a token, no CR, LF or NUL anywhere), then decides the
 * framing when the head is sent: the app's Content-Length, a length the
 * server knows (a one-element body, a file), chunked on HTTP/1.1, or
 * closing the connection on HTTP/1.0. Adds Date, Server and Connection.
 * Hop-by-hop fields from the app (Connection, Transfer-Encoding, Keep-Alive,
 * ...) are not copied: the server owns the framing; "Connection: close"
 * from the app is honoured. No Python, no I/O: unit-tested on its own. */
#ifndef CHD_RESPONSE_H
#define CHD_RESPONSE_H

#include "chd_request.h"
#include "cmn_buf.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    int status;             /* 0 until a status is set */
    cmn_buf_t head;         /* status line + app fields, then the finished head */
    int64_t content_length; /* from the app, -1 when it gave none */
    bool head_finished;     /* framing decided and the head completed */
    bool chunked;
    bool no_body;           /* HEAD request, 1xx, 204, 304 */
    bool close;             /* the connection closes after this response */
    bool app_date, app_server;
    uint64_t body_bytes;    /* body bytes passed on so far */
} chd_response_t;

void chd_response_init(chd_response_t *r);
void chd_response_free(chd_response_t *r);

/* Forgets status and fields (start_response called again with exc_info). */
void chd_response_reset(chd_response_t *r);

/* Sets the status from a WSGI status string "200 OK". Returns 0 or -EINVAL. */
int chd_response_set_status(chd_response_t *r, const char *status, size_t len);

/* Adds one field. Returns 0, or -EINVAL for a bad name, a value with CR, LF
 * or NUL, or a Content-Length that is not a number. */
int chd_response_add_header(chd_response_t *r, const char *name, size_t nlen, const char *value,
                            size_t vlen);

/* Decides the framing and completes the head (ending in CRLF CRLF).
 * known_length is the body length when the server knows it, else -1.
 * closing: the child keeps no connection open (draining, or --keepalive
 * 0: chd_conn_env_closing), so the head says "Connection: close". */
void chd_response_finish_head(chd_response_t *r, const chd_request_t *req, int64_t known_length,
                              bool closing);

/* True when the body fell short of the Content-Length the head announced
 * (the client would wait for bytes that never come). */
bool chd_response_cut_short(const chd_response_t *r);

/* Ends the response once its body is out, and returns its keep-alive
 * decision: true when the connection may stay open after it; false when
 * its head said "Connection: close" (the client's wish, HTTP/1.0 without
 * keep-alive, the app's field, a close-delimited body, or the child was
 * closing: draining or --keepalive 0), when the head never went out, or
 * when the body was cut short. The one place this is decided. */
bool chd_response_finish(chd_response_t *r);

/* Formats the chunk-size line for a chunk of n bytes ("1a\r\n") into buf
 * (at least 20 bytes). Returns its length. */
size_t chd_response_chunk_line(char *buf, size_t n);

/* Writes the IMF-fixdate for now ("Sun, 06 Nov 1994 08:49:37 GMT", 29
 * characters plus NUL) into buf (at least 30 bytes); cached per second and
 * per thread. */
void chd_http_date(char *buf);

/* The reason phrase for a status code we generate ourselves. */
const char *chd_reason_phrase(int status);

#endif
