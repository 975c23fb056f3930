/* chd_request: parsing one HTTP/1.x request off a connection's bytes.
 *
 * A thin owner around http-parser: it collects the request target and the
 * header fields (into one arena, referenced by offsets, so split reads cost
 * nothing special), decodes the body (Content-Length or chunked) into
 * `body`, and stops right after a complete message so that pipelined bytes
 * stay with the caller for the next request. No I/O and no Python here:
 * the I/O thread feeds it, and while a request runs the worker thread that
 * owns the connection feeds it the rest of the body. One owner at a time.
 *
 * Limits (chd_limits_t) are checked as the bytes arrive, so an oversized
 * head costs no more memory than the limit. Malformed input puts the
 * request in CHD_REQ_ERROR with the status to
 * answer (400, 413, 414, 431, 501, 505); the connection must then close.
 * Only the bytes set that state, and only this module writes it: a
 * timeout or a lack of memory is the connection's failure (chd_conn_fail),
 * not the request's.
 *
 * Semantics kept here (RFC 9110/9112), all decided once the head is whole:
 * the request-target's form must suit the method (chd_target), CONNECT and
 * methods http-parser does not know (any other token) get 501, Host,
 * Content-Length, Content-Type, Authorization and Proxy-Authorization may
 * appear at most once, and Host must be a valid authority. Trailer fields
 * after a chunked body are checked like head fields and then dropped: they
 * never join `headers` (RFC 9110 6.5.1); a trailer Content-Length or
 * Transfer-Encoding, a framing field that has no place there, is a 400. */
#ifndef CHD_REQUEST_H
#define CHD_REQUEST_H

#include "chd_framing.h"
#include "chd_target.h"
#include "cmn_buf.h"

#include <http_parser.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a request may be, and the answer past each limit. */
typedef struct {
    uint32_t request_line; /* bytes of the request line; 0: no limit (414) */
    uint32_t fields;       /* number of header fields (431) */
    uint32_t field_size;   /* bytes of one "name: value"; 0: no limit (431) */
    uint64_t body;         /* bytes of the decoded body; 0: no limit (413) */
} chd_limits_t;

#define CHD_DEFAULT_LIMIT_REQUEST_LINE 8190
#define CHD_DEFAULT_LIMIT_FIELDS 100
#define CHD_DEFAULT_LIMIT_FIELD_SIZE 8190
/* Whatever the limits say, a head never exceeds this (431). */
#define CHD_MAX_HEAD_BYTES (1024 * 1024)

extern const chd_limits_t chd_default_limits;

typedef enum {
    CHD_REQ_IDLE,  /* nothing of a request seen yet */
    CHD_REQ_HEAD,  /* inside the request line or the fields */
    CHD_REQ_BODY,  /* head complete, body bytes still to come */
    CHD_REQ_DONE,  /* complete message */
    CHD_REQ_ERROR, /* malformed: answer error_status and close */
} chd_req_phase_t;

typedef struct {
    uint32_t name_off, name_len, value_off, value_len;
} chd_header_t;

typedef struct {
    http_parser parser;
    chd_req_phase_t phase;
    cmn_buf_t head; /* arena for the target and the fields */
    uint32_t url_off, url_len;
    const chd_limits_t *limits;
    chd_header_t *headers; /* grows up to limits->fields */
    int nheaders, headers_cap;
    bool in_value;
    cmn_buf_t body; /* decoded body bytes not yet taken by the app */
    uint64_t body_received;
    int error_status;
    const char *error_reason;
    chd_head_check_t head_check;   /* strict head check */
    chd_chunk_check_t chunk_check; /* strict chunked-framing check */
    bool checking_chunks;
    bool skip_head_lf; /* the head's last LF is fed again after the pause */
    int ntrailers;     /* trailer fields seen (checked, not kept) */
    uint32_t trailer_name_len; /* the current trailer's name so far */
    char trailer_name[17];     /* its first 17 bytes */
    /* The method as sent, while and after the request line is read: */
    bool method_done;      /* its SP has been seen */
    bool method_unknown;   /* a token http-parser does not know: 501 */
    bool skipping_method;  /* http-parser refused it: its bytes are skipped */
    uint8_t method_len;    /* bytes kept in method_text (at most 31) */
    char method_text[32];  /* NUL-terminated, for the log of a refusal */
    /* Known once the head is complete: */
    unsigned method; /* enum http_method */
    unsigned short http_major, http_minor;
    bool keep_alive;
    bool expect_continue;
    bool chunked;
    int64_t content_length; /* -1 when absent */
    chd_target_t target;    /* the request-target's form and authority */
} chd_request_t;

/* Prepares an empty request with the given limits (borrowed; NULL for
 * chd_default_limits). */
void chd_request_init(chd_request_t *r, const chd_limits_t *limits);

/* Prepares for the next request on the same connection; keeps buffers. */
void chd_request_reset(chd_request_t *r);

/* Frees the buffers. The request stays usable after chd_request_reset
 * (an idle keep-alive connection frees them between requests). */
void chd_request_free(chd_request_t *r);

/* Parses up to len bytes. Returns how many were consumed: fewer than len
 * only when the message completed (the rest belongs to the next request) or
 * the input is malformed. Check r->phase afterwards. */
size_t chd_request_feed(chd_request_t *r, const char *data, size_t len);

/* Pointers into the arena (valid until the next feed or reset). */
static inline const char *chd_request_url(const chd_request_t *r) { return r->head.data + r->url_off; }
static inline const char *chd_header_name(const chd_request_t *r, const chd_header_t *h)
{
    return r->head.data + h->name_off;
}
static inline const char *chd_header_value(const chd_request_t *r, const chd_header_t *h)
{
    return r->head.data + h->value_off;
}

/* The method as text ("GET"). */
static inline const char *chd_request_method(const chd_request_t *r)
{
    return http_method_str((enum http_method)r->method);
}

/* The method as the request line had it: the same as chd_request_method
 * once the head is whole, and also for a method http-parser does not know
 * (truncated to 31 bytes). "" before the method's first byte. */
static inline const char *chd_request_line_method(const chd_request_t *r)
{
    if (r->method_unknown || !r->method_done)
        return r->method_text;
    return http_method_str((enum http_method)r->parser.method);
}

/* Finds a header by case-insensitive name; NULL when absent. */
const chd_header_t *chd_request_find_header(const chd_request_t *r, const char *name);

#endif
