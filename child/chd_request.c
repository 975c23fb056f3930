/* chd_request: see chd_request.h. */
#include "chd_request.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const chd_limits_t chd_default_limits = {
    .request_line = CHD_DEFAULT_LIMIT_REQUEST_LINE,
    .fields = CHD_DEFAULT_LIMIT_FIELDS,
    .field_size = CHD_DEFAULT_LIMIT_FIELD_SIZE,
    .body = 0,
};

static chd_request_t *request_of(http_parser *p) { return p->data; }

static int fail(chd_request_t *r, int status, const char *reason)
{
    r->phase = CHD_REQ_ERROR;
    r->error_status = status;
    r->error_reason = reason;
    return -1;
}

static unsigned char ascii_lower(unsigned char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* A control byte other than HTAB (RFC 9110 5.5: values are field-vchar,
 * SP and HTAB). http-parser refuses them inside a value but not as its
 * first byte, so that one is checked here. */
static bool is_ctl(unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; }

/* Appends to the arena, enforcing the head size limit. */
static int arena_append(chd_request_t *r, const char *at, size_t len, int status)
{
    if (r->head.len + len > CHD_MAX_HEAD_BYTES)
        return fail(r, status, status == 414 ? "request line too long" : "header section too large");
    if (cmn_buf_append(&r->head, at, len) < 0)
        return fail(r, 500, "out of memory");
    return 0;
}

static int on_message_begin(http_parser *p)
{
    request_of(p)->phase = CHD_REQ_HEAD;
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    chd_request_t *r = request_of(p);
    r->phase = CHD_REQ_HEAD;
    if (r->limits->request_line && r->url_len + len > r->limits->request_line)
        return fail(r, 414, "request line too long");
    if (arena_append(r, at, len, 414) < 0)
        return -1;
    r->url_len += (uint32_t)len;
    return 0;
}

static int grow_headers(chd_request_t *r)
{
    int cap = r->headers_cap ? r->headers_cap * 2 : 16;
    chd_header_t *h = realloc(r->headers, (size_t)cap * sizeof *h);
    if (!h)
        return -1;
    r->headers = h;
    r->headers_cap = cap;
    return 0;
}

/* One field line may not exceed limits->field_size. */
static int check_field_size(chd_request_t *r, const chd_header_t *h)
{
    if (r->limits->field_size && h->name_len + h->value_len + 2 > r->limits->field_size)
        return fail(r, 431, "header field too large");
    return 0;
}

/* A trailer field's name (after a chunked body): checked like a head
 * field's, counted against the same limit, and dropped. Merging trailers
 * into the head's fields would let a trailer Host or Content-Length in
 * after the head checks ran (RFC 9110 6.5.1). The chunk check has vetted
 * the line's bytes (CRLF, no NUL, no obs-fold). */
static int on_trailer_name(chd_request_t *r, const char *at, size_t len)
{
    if (r->in_value || r->ntrailers == 0) {
        if ((uint32_t)r->ntrailers >= r->limits->fields)
            return fail(r, 431, "too many trailer fields");
        r->ntrailers++;
        r->in_value = false;
        r->trailer_name_len = 0;
    }
    for (size_t k = 0; k < len; k++) {
        if (!chd_is_tchar((unsigned char)at[k]))
            return fail(r, 400, "invalid trailer field name");
        if (r->trailer_name_len < sizeof r->trailer_name)
            r->trailer_name[r->trailer_name_len] = (char)ascii_lower((unsigned char)at[k]);
        r->trailer_name_len++;
    }
    return 0;
}

/* RFC 9110 6.5.1: framing fields have no place in trailers; http-parser
 * would even check a trailer Content-Length as one. A 400, by name. */
static bool is_framing_trailer(const chd_request_t *r)
{
    uint32_t n = r->trailer_name_len;
    return (n == 14 && memcmp(r->trailer_name, "content-length", 14) == 0) ||
           (n >= 17 && memcmp(r->trailer_name, "transfer-encoding", 17) == 0);
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    chd_request_t *r = request_of(p);
    if (r->phase == CHD_REQ_BODY)
        return on_trailer_name(r, at, len);
    if (r->in_value || r->nheaders == 0) {
        if ((uint32_t)r->nheaders >= r->limits->fields)
            return fail(r, 431, "too many header fields");
        if (r->nheaders == r->headers_cap && grow_headers(r) < 0)
            return fail(r, 500, "out of memory");
        chd_header_t *h = &r->headers[r->nheaders++];
        memset(h, 0, sizeof *h);
        h->name_off = (uint32_t)r->head.len;
        r->in_value = false;
    }
    if (arena_append(r, at, len, 431) < 0)
        return -1;
    r->headers[r->nheaders - 1].name_len += (uint32_t)len;
    return check_field_size(r, &r->headers[r->nheaders - 1]);
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    chd_request_t *r = request_of(p);
    if (r->phase == CHD_REQ_BODY) { /* a trailer's value: checked as in the head, dropped */
        bool first = !r->in_value;
        r->in_value = true;
        if (first && is_framing_trailer(r))
            return fail(r, 400, "framing field in the trailers");
        return first && len > 0 && is_ctl((unsigned char)at[0])
                   ? fail(r, 400, "control byte in a trailer field value")
                   : 0;
    }
    chd_header_t *h = &r->headers[r->nheaders - 1];
    if (!r->in_value) {
        h->value_off = (uint32_t)r->head.len;
        r->in_value = true;
    }
    if (arena_append(r, at, len, 431) < 0)
        return -1;
    h->value_len += (uint32_t)len;
    return check_field_size(r, h);
}


/* Field names compare case-insensitively in ASCII (RFC 9110 5.1), whatever
 * the locale, and with no library call: it runs for every field. */
static bool ascii_case_equal(const char *a, const char *b, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (ascii_lower((unsigned char)a[k]) != ascii_lower((unsigned char)b[k]))
            return false;
    return true;
}

/* ascii_case_equal with a name known to be in lower case. */
static bool equals_lower(const char *a, const char *lower, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (ascii_lower((unsigned char)a[k]) != (unsigned char)lower[k])
            return false;
    return true;
}

const chd_header_t *chd_request_find_header(const chd_request_t *r, const char *name)
{
    size_t len = strlen(name);
    for (int i = 0; i < r->nheaders; i++) {
        const chd_header_t *h = &r->headers[i];
        if (h->name_len == len && ascii_case_equal(chd_header_name(r, h), name, len))
            return h;
    }
    return NULL;
}

/* The fields the head checks look at. */
typedef enum {
    FIELD_OTHER,
    FIELD_HOST,
    FIELD_EXPECT,
    FIELD_CONTENT_LENGTH,
    FIELD_TRANSFER_ENCODING,
    /* Fields that must appear at most once (besides Host and
     * Content-Length): singletons of RFC 9110 whose value is no list, so a
     * second line has no meaning of its own, and the ", " join the environ
     * makes of repeated fields would hand the app a value no client wrote;
     * two parties reading "the" value could each pick another copy. */
    FIELD_CONTENT_TYPE,        /* 8.3: how the body is read */
    FIELD_AUTHORIZATION,       /* 11.6.2: who is asking */
    FIELD_PROXY_AUTHORIZATION, /* 11.7.2 */
    /* "Transfer-Encoding" followed by more token bytes: a legal name that
     * http-parser takes for Transfer-Encoding (it matches the prefix), so
     * refused in its own right rather than by accident. */
    FIELD_TE_LOOKALIKE,
} field_kind_t;

/* Tells the fields apart by length first: most names are none of them and
 * cost one switch, no comparison. */
static field_kind_t field_kind(const chd_request_t *r, const chd_header_t *h)
{
    const char *name = chd_header_name(r, h);
    switch (h->name_len) {
    case 4:
        return equals_lower(name, "host", 4) ? FIELD_HOST : FIELD_OTHER;
    case 6:
        return equals_lower(name, "expect", 6) ? FIELD_EXPECT : FIELD_OTHER;
    case 12:
        return equals_lower(name, "content-type", 12) ? FIELD_CONTENT_TYPE : FIELD_OTHER;
    case 13:
        return equals_lower(name, "authorization", 13) ? FIELD_AUTHORIZATION : FIELD_OTHER;
    case 14:
        return equals_lower(name, "content-length", 14) ? FIELD_CONTENT_LENGTH : FIELD_OTHER;
    case 17:
        return equals_lower(name, "transfer-encoding", 17) ? FIELD_TRANSFER_ENCODING : FIELD_OTHER;
    case 19:
        if (equals_lower(name, "proxy-authorization", 19))
            return FIELD_PROXY_AUTHORIZATION;
        break;
    default:
        break;
    }
    return h->name_len > 17 && equals_lower(name, "transfer-encoding", 17) ? FIELD_TE_LOOKALIKE
                                                                          : FIELD_OTHER;
}

/* tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
 *         "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA   (RFC 9110 5.6.2) */
static bool all_digits(const char *v, uint32_t len)
{
    if (len == 0 || len > 18)
        return false;
    for (uint32_t i = 0; i < len; i++)
        if (v[i] < '0' || v[i] > '9')
            return false;
    return true;
}

/* What check_fields saw of the fields that decide framing, so that
 * check_framing_fields and on_headers_complete need no pass of their own. */
typedef struct {
    int hosts, lengths, te;
    bool bad_length;            /* some Content-Length is not 1*DIGIT */
    bool te_lookalike;          /* a name that only starts with Transfer-Encoding */
    const chd_header_t *expect; /* the first Expect field */
    const chd_header_t *host;   /* the first Host field */
    unsigned once_seen;         /* bit per once-only kind seen */
    const char *repeated;       /* the reason when one of them came twice */
} field_summary_t;

/* Notes a once-only field; a second copy of one is an error. */
static void count_once(field_kind_t kind, field_summary_t *s)
{
    static const char *const reasons[] = {
        [FIELD_CONTENT_TYPE] = "more than one Content-Type field",
        [FIELD_AUTHORIZATION] = "more than one Authorization field",
        [FIELD_PROXY_AUTHORIZATION] = "more than one Proxy-Authorization field",
    };
    unsigned bit = 1u << kind;
    if ((s->once_seen & bit) && !s->repeated)
        s->repeated = reasons[kind];
    s->once_seen |= bit;
}

static void count_field(const chd_request_t *r, const chd_header_t *h, field_summary_t *s)
{
    field_kind_t kind = field_kind(r, h);
    switch (kind) {
    case FIELD_HOST:
        if (!s->hosts++)
            s->host = h;
        break;
    case FIELD_TRANSFER_ENCODING:
        s->te++;
        break;
    case FIELD_CONTENT_LENGTH:
        s->lengths++;
        s->bad_length |= !all_digits(chd_header_value(r, h), h->value_len);
        break;
    case FIELD_EXPECT:
        if (!s->expect)
            s->expect = h;
        break;
    case FIELD_CONTENT_TYPE:
    case FIELD_AUTHORIZATION:
    case FIELD_PROXY_AUTHORIZATION:
        count_once(kind, s);
        break;
    case FIELD_TE_LOOKALIKE:
        s->te_lookalike = true;
        break;
    case FIELD_OTHER:
        break;
    }
}

/* Field names must be tokens (no whitespace before the colon, RFC 9112
 * 5.1); trailing whitespace is not part of a value (RFC 9110 5.5). Fills
 * *s for the framing checks, which come after: a bad name anywhere wins. */
static int check_fields(chd_request_t *r, field_summary_t *s)
{
    *s = (field_summary_t){0};
    for (int i = 0; i < r->nheaders; i++) {
        chd_header_t *h = &r->headers[i];
        const char *name = chd_header_name(r, h);
        for (uint32_t k = 0; k < h->name_len; k++)
            if (!chd_is_tchar((unsigned char)name[k]))
                return fail(r, 400, "invalid header field name");
        if (h->name_len == 0)
            return fail(r, 400, "empty header field name");
        const char *value = chd_header_value(r, h);
        if (h->value_len > 0 && is_ctl((unsigned char)value[0]))
            return fail(r, 400, "control byte in a header field value");
        while (h->value_len > 0 &&
               (value[h->value_len - 1] == ' ' || value[h->value_len - 1] == '\t'))
            h->value_len--;
        count_field(r, h, s);
    }
    return 0;
}

/* Walks a comma-separated list value, calling fn for each trimmed,
 * non-empty element; returns the number of elements. */
static int each_list_item(const char *v, uint32_t len, void (*fn)(const char *, size_t, void *),
                          void *ctx)
{
    int n = 0;
    uint32_t i = 0;
    while (i < len) {
        uint32_t start = i;
        while (i < len && v[i] != ',')
            i++;
        uint32_t end = i++;
        while (start < end && (v[start] == ' ' || v[start] == '\t'))
            start++;
        while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
            end--;
        if (end > start) {
            fn(v + start, end - start, ctx);
            n++;
        }
    }
    return n;
}

typedef struct {
    int codings, chunked;
    bool last_is_chunked;
} te_summary_t;

static int count_byte(const char *v, uint32_t len, char b)
{
    int n = 0;
    for (uint32_t i = 0; i < len; i++)
        n += v[i] == b;
    return n;
}

static void add_coding(const char *item, size_t len, void *ctx)
{
    te_summary_t *t = ctx;
    t->codings++;
    t->last_is_chunked = len == 7 && strncasecmp(item, "chunked", 7) == 0;
    t->chunked += t->last_is_chunked;
}

/* The answer RFC 9112 6.1 asks for a request's Transfer-Encoding: 0 when
 * it is exactly one final "chunked" (or absent), 400 when the framing
 * cannot be trusted, 501 for codings we do not implement. */
static int transfer_encoding_verdict(const chd_request_t *r)
{
    te_summary_t t = {0, 0, false};
    bool present = false;
    for (int i = 0; i < r->nheaders; i++) {
        const chd_header_t *h = &r->headers[i];
        if (field_kind(r, h) != FIELD_TRANSFER_ENCODING)
            continue;
        present = true;
        const char *v = chd_header_value(r, h);
        int items = each_list_item(v, h->value_len, add_coding, &t);
        if (items == 0)
            return 400; /* an empty list */
        /* Stricter than the #rule (RFC 9110 5.6.1): no empty elements and
         * no HTAB, which http-parser, framing the body, reads its own way
         * (it sees no "chunked" in "chunked," or ",chunked"). */
        if (items != count_byte(v, h->value_len, ',') + 1 || memchr(v, '\t', h->value_len))
            return 400;
    }
    if (!present)
        return 0;
    if (r->parser.http_major == 1 && r->parser.http_minor == 0)
        return 400; /* HTTP/1.0 has no Transfer-Encoding */
    if (!t.last_is_chunked)
        return t.chunked ? 400 : 501;
    if (t.chunked > 1)
        return 400;
    return t.codings > 1 ? 501 : 0;
}

/* Host exactly once in HTTP/1.1 (RFC 9112 3.2); Content-Length once, as
 * 1*DIGIT, and never with Transfer-Encoding (RFC 9112 6.3). Returns 0 or
 * fails the request. */
static int check_framing_fields(chd_request_t *r, const field_summary_t *s)
{
    if (s->bad_length)
        return fail(r, 400, "invalid Content-Length");
    if (s->te_lookalike)
        return fail(r, 400, "field name that starts with Transfer-Encoding");
    if (s->hosts > 1 || (s->hosts == 0 && r->parser.http_minor >= 1))
        return fail(r, 400, s->hosts ? "more than one Host field" : "no Host field");
    if (s->lengths > 1)
        return fail(r, 400, "more than one Content-Length field");
    if (s->lengths && s->te)
        return fail(r, 400, "both Content-Length and Transfer-Encoding");
    int verdict = s->te ? transfer_encoding_verdict(r) : 0;
    if (verdict)
        return fail(r, verdict, verdict == 501 ? "transfer coding not implemented"
                                               : "invalid Transfer-Encoding");
    if (s->repeated)
        return fail(r, 400, s->repeated);
    return 0;
}

/* Host = uri-host [":" port], or empty (RFC 9112 3.2: 400 for an invalid
 * one); the request-target's form must suit the method (3.2.1-3.2.4).
 * Then the methods we do not implement: CONNECT (we are an origin server,
 * not a tunnel) and any token http-parser does not know get 501 (RFC 9110
 * 9.1, 15.6.2), but only for a head that is otherwise valid. */
static int check_target(chd_request_t *r, const chd_header_t *host)
{
    uint32_t host_len;
    int32_t port;
    if (host && host->value_len > 0 &&
        chd_authority_parse(chd_header_value(r, host), host->value_len, &host_len, &port) < 0)
        return fail(r, 400, "invalid Host field");
    bool known = !r->method_unknown;
    bool connect = known && r->parser.method == HTTP_CONNECT;
    bool options = known && r->parser.method == HTTP_OPTIONS;
    if (chd_target_parse(chd_request_url(r), r->url_len, &r->target) < 0 ||
        !chd_target_allowed(r->target.form, connect, options))
        return fail(r, 400, "invalid request target");
    if (connect)
        return fail(r, 501, "CONNECT not implemented");
    if (!known)
        return fail(r, 501, "method not implemented");
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    chd_request_t *r = request_of(p);
    if (p->http_major != 1 || p->http_minor > 1)
        return fail(r, 505, "HTTP version not supported");
    field_summary_t fields;
    if (check_fields(r, &fields) < 0 || check_framing_fields(r, &fields) < 0 ||
        check_target(r, fields.host) < 0)
        return -1;
    r->method = p->method;
    r->http_major = p->http_major;
    r->http_minor = p->http_minor;
    r->keep_alive = http_should_keep_alive(p) && !p->upgrade;
    r->chunked = (p->flags & F_CHUNKED) != 0;
    r->content_length = (p->flags & F_CONTENTLENGTH) ? (int64_t)p->content_length : -1;
    if (r->limits->body && r->content_length > 0 && (uint64_t)r->content_length > r->limits->body)
        return fail(r, 413, "request body too large");
    const chd_header_t *expect = fields.expect;
    r->expect_continue = expect && expect->value_len == 12 &&
                         strncasecmp(chd_header_value(r, expect), "100-continue", 12) == 0 &&
                         (r->http_major > 1 || r->http_minor >= 1);
    r->phase = CHD_REQ_BODY;
    if (r->chunked)
        http_parser_pause(p, 1); /* so the feed loop learns where the body starts */
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    chd_request_t *r = request_of(p);
    r->body_received += len;
    if (r->limits->body && r->body_received > r->limits->body)
        return fail(r, 413, "request body too large");
    if (cmn_buf_append(&r->body, at, len) < 0)
        return fail(r, 500, "out of memory");
    return 0;
}

static int on_message_complete(http_parser *p)
{
    request_of(p)->phase = CHD_REQ_DONE;
    http_parser_pause(p, 1); /* leave pipelined bytes for the next request */
    return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

void chd_request_init(chd_request_t *r, const chd_limits_t *limits)
{
    memset(r, 0, sizeof *r);
    r->limits = limits ? limits : &chd_default_limits;
    chd_request_reset(r);
}

void chd_request_reset(chd_request_t *r)
{
    http_parser_init(&r->parser, HTTP_REQUEST);
    r->parser.data = r;
    r->phase = CHD_REQ_IDLE;
    cmn_buf_clear(&r->head);
    cmn_buf_shrink(&r->head, 16 * 1024);
    cmn_buf_clear(&r->body);
    cmn_buf_shrink(&r->body, 64 * 1024);
    r->url_off = r->url_len = 0;
    r->nheaders = 0;
    r->in_value = false;
    r->body_received = 0;
    r->error_status = 0;
    r->error_reason = NULL;
    r->keep_alive = r->expect_continue = r->chunked = false;
    r->content_length = -1;
    chd_head_check_init(&r->head_check);
    chd_chunk_check_init(&r->chunk_check);
    r->checking_chunks = r->skip_head_lf = false;
    r->ntrailers = 0;
    r->method_done = r->method_unknown = r->skipping_method = false;
    r->method_len = 0;
    r->method_text[0] = '\0';
}

void chd_request_free(chd_request_t *r)
{
    cmn_buf_free(&r->head);
    cmn_buf_free(&r->body);
    free(r->headers);
    r->headers = NULL;
    r->headers_cap = 0;
}

/* Maps an http-parser error onto the status RFC 9112 asks for. */
static void fail_from_parser(chd_request_t *r, enum http_errno e)
{
    switch (e) {
    case HPE_INVALID_VERSION:
        fail(r, r->parser.http_major > 1 ? 505 : 400, "unsupported HTTP version");
        break;
    case HPE_INVALID_METHOD:
        fail(r, 400, "invalid method");
        break;
    case HPE_HEADER_OVERFLOW:
        fail(r, 431, "header section too large");
        break;
    case HPE_INVALID_TRANSFER_ENCODING:
    case HPE_UNEXPECTED_CONTENT_LENGTH: {
        /* http-parser stops before our head checks run: give their answer
         * (a coding we do not implement is 501, not 400). */
        int verdict = transfer_encoding_verdict(r);
        fail(r, verdict ? verdict : 400,
             verdict == 501 ? "transfer coding not implemented" : "invalid message framing");
        break;
    }
    default:
        fail(r, 400, http_errno_description(e));
        break;
    }
}

/* Runs the strict chunked-framing check over bytes http-parser consumed. */
static int check_chunks(chd_request_t *r, const char *data, size_t len)
{
    if (r->skip_head_lf && len > 0) {
        r->skip_head_lf = false;
        data++;
        len--;
    }
    if (chd_chunk_check(&r->chunk_check, data, len) == CHD_CHECK_BAD)
        return fail(r, 400, "malformed chunked body");
    return 0;
}

/* How many of a chunked body's bytes http-parser may take as they are:
 * all, or those before an HTAB right after a chunk-size, which it would
 * refuse (it takes only SP there); 0 when data starts with that HTAB, which
 * it is then given as SP (chd_chunk_find_tab_bws). */
static size_t chunk_bytes_before_tab(const chd_request_t *r, const char *data, size_t len)
{
    size_t from = r->skip_head_lf && len > 0 ? 1 : 0; /* the head's LF is not the body's */
    return from + chd_chunk_find_tab_bws(&r->chunk_check, data + from, len - from);
}

/* Follows the method at the start of a request (after any empty lines,
 * which the head check vetted), keeping its first 31 bytes for the log,
 * until its SP. A few bytes per request; nothing once the SP was seen. */
static void track_method(chd_request_t *r, const char *data, size_t len)
{
    size_t i = 0;
    if (r->method_len == 0)
        while (i < len && (data[i] == '\r' || data[i] == '\n'))
            i++;
    const char *sp = memchr(data + i, ' ', len - i);
    size_t n = (size_t)((sp ? sp : data + len) - (data + i));
    size_t room = sizeof r->method_text - 1 - r->method_len;
    if (n > room)
        n = room;
    memcpy(r->method_text + r->method_len, data + i, n);
    r->method_len = (uint8_t)(r->method_len + n);
    r->method_text[r->method_len] = '\0';
    r->method_done = sp != NULL;
}

/* http-parser refused the method. The head check has passed its bytes as
 * a token, so it is a method (RFC 9110 9.1) that http-parser does not know:
 * the rest of its bytes are skipped and http-parser parses the rest of the
 * head behind a stand-in method, so that the head gets every check and the
 * request its 501 (or the head's own 400) once the head is whole. */
static void start_skipping_method(chd_request_t *r)
{
    r->method_unknown = true;
    r->skipping_method = true;
    http_parser_init(&r->parser, HTTP_REQUEST);
    r->parser.data = r;
}

/* Skips method bytes up to and including the SP; then feeds http-parser
 * the stand-in. Returns the bytes consumed. */
static size_t skip_method(chd_request_t *r, const char *data, size_t len, bool *again)
{
    const char *sp = memchr(data, ' ', len);
    *again = false;
    if (!sp)
        return len;
    r->skipping_method = false;
    if (http_parser_execute(&r->parser, &settings, "GET ", 4) != 4)
        fail(r, 500, "cannot resume after an unknown method");
    size_t used = (size_t)(sp - data) + 1;
    *again = used < len && r->phase != CHD_REQ_ERROR;
    return used;
}

/* One http_parser_execute step plus the strict checks. Returns the bytes
 * consumed; sets *again when parsing should go on with the rest. */
static size_t feed_step(chd_request_t *r, const char *data, size_t len, bool *again)
{
    if (r->skipping_method)
        return skip_method(r, data, len, again);
    bool checking = r->checking_chunks;
    size_t offered = checking ? chunk_bytes_before_tab(r, data, len) : len;
    size_t used = offered > 0 ? http_parser_execute(&r->parser, &settings, data, offered)
                              : http_parser_execute(&r->parser, &settings, " ", 1);
    enum http_errno e = HTTP_PARSER_ERRNO(&r->parser);
    *again = false;
    if (r->phase == CHD_REQ_ERROR)
        return used;
    if (checking && check_chunks(r, data, used) < 0)
        return used;
    if (e == HPE_PAUSED) {
        http_parser_pause(&r->parser, 0);
        if (r->phase == CHD_REQ_BODY && !r->checking_chunks) {
            /* Paused at the end of a chunked head: the body follows. */
            r->checking_chunks = true;
            r->skip_head_lf = true;
            *again = used < len;
        }
        return used;
    }
    if (e == HPE_INVALID_METHOD && !r->method_unknown) {
        start_skipping_method(r);
        *again = used < len;
        return used;
    }
    if (e != HPE_OK)
        fail_from_parser(r, e);
    else if (r->parser.upgrade && r->phase != CHD_REQ_DONE)
        fail(r, 400, "upgrade not supported");
    else
        *again = used == (offered > 0 ? offered : 1) && used < len; /* stopped short of a tab */
    return used;
}

size_t chd_request_feed(chd_request_t *r, const char *data, size_t len)
{
    if (r->phase == CHD_REQ_DONE || r->phase == CHD_REQ_ERROR || len == 0)
        return 0;
    size_t head_bytes;
    if (chd_head_check(&r->head_check, data, len, &head_bytes) == CHD_CHECK_BAD) {
        fail(r, 400, chd_head_check_line_done(&r->head_check) ? "malformed header section"
                                                              : "malformed request line");
        return 0;
    }
    if (r->limits->request_line && r->head_check.length > r->limits->request_line + 2) {
        fail(r, 414, "request line too long"); /* + 2: the CRLF does not count */
        return 0;
    }
    if (!r->method_done)
        track_method(r, data, len);
    size_t total = 0;
    bool again = true;
    while (again && total < len)
        total += feed_step(r, data + total, len - total, &again);
    return total;
}
