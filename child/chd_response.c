/* chd_response: see chd_response.h. */
#include "chd_response.h"

#include "cmn_version.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SERVER_HEADER "Server: spawning/" SPAWNING_VERSION "\r\n"

void chd_response_init(chd_response_t *r)
{
    memset(r, 0, sizeof *r);
    r->content_length = -1;
}

void chd_response_free(chd_response_t *r) { cmn_buf_free(&r->head); }

void chd_response_reset(chd_response_t *r)
{
    cmn_buf_t keep = r->head;
    cmn_buf_clear(&keep);
    chd_response_init(r);
    r->head = keep;
}

static bool has_forbidden_byte(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
            return true;
    return false;
}

int chd_response_set_status(chd_response_t *r, const char *status, size_t len)
{
    if (len < 4 || status[3] != ' ' || has_forbidden_byte(status, len))
        return -EINVAL;
    int code = 0;
    for (int i = 0; i < 3; i++) {
        if (status[i] < '0' || status[i] > '9')
            return -EINVAL;
        code = code * 10 + (status[i] - '0');
    }
    if (code < 100)
        return -EINVAL;
    r->status = code;
    cmn_buf_clear(&r->head);
    if (cmn_buf_append_str(&r->head, "HTTP/1.1 ") < 0 || cmn_buf_append(&r->head, status, len) < 0 ||
        cmn_buf_append(&r->head, "\r\n", 2) < 0)
        return -ENOMEM;
    return 0;
}

static bool name_is(const char *name, size_t nlen, const char *want, size_t wlen)
{
    return nlen == wlen && strncasecmp(name, want, nlen) == 0;
}

#define NAME_IS(name, nlen, literal) name_is(name, nlen, literal, sizeof literal - 1)

static int parse_length(const char *v, size_t len, int64_t *out)
{
    if (len == 0 || len > 18)
        return -EINVAL;
    int64_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -EINVAL;
        n = n * 10 + (v[i] - '0');
    }
    *out = n;
    return 0;
}

/* The response fields the server itself looks at. */
typedef enum {
    FIELD_OTHER,
    FIELD_CONTENT_LENGTH,
    FIELD_CONNECTION,
    FIELD_HOP_BY_HOP, /* dropped: the server does its own framing */
    FIELD_DATE,
    FIELD_SERVER,
} field_kind_t;

/* Sorted by length first, so most names are told apart by one switch. */
static field_kind_t field_kind(const char *name, size_t nlen)
{
    switch (nlen) {
    case 2:
        return NAME_IS(name, nlen, "TE") ? FIELD_HOP_BY_HOP : FIELD_OTHER;
    case 4:
        return NAME_IS(name, nlen, "Date") ? FIELD_DATE : FIELD_OTHER;
    case 6:
        return NAME_IS(name, nlen, "Server") ? FIELD_SERVER : FIELD_OTHER;
    case 7:
        return NAME_IS(name, nlen, "Trailer") || NAME_IS(name, nlen, "Upgrade") ? FIELD_HOP_BY_HOP
                                                                               : FIELD_OTHER;
    case 10:
        if (NAME_IS(name, nlen, "Connection"))
            return FIELD_CONNECTION;
        return NAME_IS(name, nlen, "Keep-Alive") ? FIELD_HOP_BY_HOP : FIELD_OTHER;
    case 14:
        return NAME_IS(name, nlen, "Content-Length") ? FIELD_CONTENT_LENGTH : FIELD_OTHER;
    case 16:
        return NAME_IS(name, nlen, "Proxy-Connection") ? FIELD_HOP_BY_HOP : FIELD_OTHER;
    case 17:
        return NAME_IS(name, nlen, "Transfer-Encoding") ? FIELD_HOP_BY_HOP : FIELD_OTHER;
    default:
        return FIELD_OTHER;
    }
}

static bool is_token(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!chd_is_tchar((unsigned char)s[i]))
            return false;
    return true;
}

/* Content-Length from the app: one value, said once, and none on the
 * responses that must not carry one (RFC 9110 8.6). Returns 1 to keep the
 * field, 0 to drop it, or -EINVAL. */
static int take_content_length(chd_response_t *r, const char *value, size_t vlen)
{
    int64_t length;
    if (parse_length(value, vlen, &length) < 0)
        return -EINVAL;
    if (r->content_length >= 0)
        return r->content_length == length ? 0 : -EINVAL;
    if (r->status < 200 || r->status == 204)
        return 0;
    r->content_length = length;
    return 1;
}

static void take_connection(chd_response_t *r, const char *value, size_t vlen)
{
    for (size_t i = 0; i + 5 <= vlen; i++)
        if (strncasecmp(value + i, "close", 5) == 0)
            r->close = true;
}

int chd_response_add_header(chd_response_t *r, const char *name, size_t nlen, const char *value,
                            size_t vlen)
{
    if (!is_token(name, nlen) || has_forbidden_byte(value, vlen))
        return -EINVAL;
    switch (field_kind(name, nlen)) {
    case FIELD_CONTENT_LENGTH: {
        int keep = take_content_length(r, value, vlen);
        if (keep <= 0)
            return keep;
        break;
    }
    case FIELD_CONNECTION:
        take_connection(r, value, vlen); /* the server writes its own Connection field */
        return 0;
    case FIELD_HOP_BY_HOP:
        return 0;
    case FIELD_DATE:
        r->app_date = true;
        break;
    case FIELD_SERVER:
        r->app_server = true;
        break;
    case FIELD_OTHER:
        break;
    }
    /* One reservation, then plain copies: this runs for every header. */
    if (cmn_buf_reserve(&r->head, nlen + vlen + 4) < 0)
        return -ENOMEM;
    char *out = r->head.data + r->head.len;
    memcpy(out, name, nlen);
    memcpy(out + nlen, ": ", 2);
    memcpy(out + nlen + 2, value, vlen);
    memcpy(out + nlen + 2 + vlen, "\r\n", 2);
    r->head.len += nlen + vlen + 4;
    return 0;
}

/* Chooses Content-Length, chunked or close-delimited. */
static void choose_framing(chd_response_t *r, const chd_request_t *req, int64_t known_length)
{
    bool http11 = req->http_major > 1 || (req->http_major == 1 && req->http_minor >= 1);
    r->no_body = req->method == HTTP_HEAD || r->status < 200 || r->status == 204 ||
                 r->status == 304;
    if (r->content_length >= 0 || r->status < 200 || r->status == 204)
        return;
    if (known_length >= 0 && r->status != 304) {
        r->content_length = known_length;
        cmn_buf_append_str(&r->head, "Content-Length: ");
        cmn_buf_append_uint(&r->head, (unsigned long long)known_length);
        cmn_buf_append(&r->head, "\r\n", 2);
    } else if (r->no_body) {
        return; /* HEAD or 304: no body follows, whatever its length */
    } else if (http11) {
        r->chunked = true;
        cmn_buf_append_str(&r->head, "Transfer-Encoding: chunked\r\n");
    } else {
        r->close = true; /* HTTP/1.0: the end of the body is the end of the connection */
    }
}

void chd_response_finish_head(chd_response_t *r, const chd_request_t *req, int64_t known_length,
                              bool closing)
{
    choose_framing(r, req, known_length);
    if (!r->app_server)
        cmn_buf_append_str(&r->head, SERVER_HEADER);
    if (!r->app_date) {
        char date[32];
        chd_http_date(date);
        cmn_buf_append(&r->head, "Date: ", 6);
        cmn_buf_append(&r->head, date, 29);
        cmn_buf_append(&r->head, "\r\n", 2);
    }
    bool http11 = req->http_major > 1 || (req->http_major == 1 && req->http_minor >= 1);
    if (!req->keep_alive || closing)
        r->close = true;
    if (r->close)
        cmn_buf_append_str(&r->head, "Connection: close\r\n");
    else if (!http11)
        cmn_buf_append_str(&r->head, "Connection: keep-alive\r\n");
    cmn_buf_append(&r->head, "\r\n", 2);
    r->head_finished = true;
}

bool chd_response_cut_short(const chd_response_t *r)
{
    return !r->no_body && r->content_length >= 0 && r->body_bytes < (uint64_t)r->content_length;
}

bool chd_response_finish(chd_response_t *r)
{
    if (!r->head_finished || chd_response_cut_short(r))
        r->close = true;
    return !r->close;
}

size_t chd_response_chunk_line(char *buf, size_t n)
{
    int len = snprintf(buf, 20, "%zx\r\n", n);
    return len > 0 ? (size_t)len : 0;
}

void chd_http_date(char *buf)
{
    static __thread time_t cached_at = -1;
    static __thread char cached[32];
    time_t now = time(NULL);
    if (now != cached_at) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(cached, sizeof cached, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        cached_at = now;
    }
    memcpy(buf, cached, 30);
}

const char *chd_reason_phrase(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}
