/* ref_diff: see ref_diff.h. */
#include "ref_diff.h"

#include "ref_parser.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

__attribute__((format(printf, 2, 3))) static int disagree(ref_diff_t *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->why, sizeof d->why, fmt, ap);
    va_end(ap);
    return -1;
}

static bool same(const char *a, size_t an, const char *b, size_t bn)
{
    return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

/* A message the server completed against the reference's reading. */
static int compare_done(const chd_request_t *r, const ref_result_t *ref, size_t used,
                        ref_diff_t *d)
{
    if (ref->status != 0)
        return disagree(d, "server accepted a message (%zu bytes), reference says %d", used,
                        ref->status);
    if (ref->used != used)
        return disagree(d, "message length: server %zu, reference %zu", used, ref->used);
    const char *m = chd_request_method(r);
    if (!same(m, strlen(m), ref->method, ref->method_len))
        return disagree(d, "method: server %s, reference %.*s", m, (int)ref->method_len,
                        ref->method);
    if (!same(chd_request_url(r), r->url_len, ref->target, ref->target_len))
        return disagree(d, "target differs");
    if (r->http_major != ref->major || r->http_minor != ref->minor)
        return disagree(d, "version: server %d.%d, reference %d.%d", r->http_major,
                        r->http_minor, ref->major, ref->minor);
    if (r->nheaders != ref->nfields)
        return disagree(d, "fields: server %d, reference %d", r->nheaders, ref->nfields);
    for (int i = 0; i < r->nheaders; i++) {
        const chd_header_t *h = &r->headers[i];
        const ref_field_t *f = &ref->fields[i];
        if (!same(chd_header_name(r, h), h->name_len, f->name, f->name_len) ||
            !same(chd_header_value(r, h), h->value_len, f->value, f->value_len))
            return disagree(d, "field %d: server %.*s: [%.*s], reference %.*s: [%.*s]", i,
                            (int)h->name_len, chd_header_name(r, h), (int)h->value_len,
                            chd_header_value(r, h), (int)f->name_len, f->name,
                            (int)f->value_len, f->value);
    }
    size_t body_len = cmn_buf_unread(&r->body);
    if (!same(body_len ? cmn_buf_head(&r->body) : "", body_len, ref->body, ref->body_len))
        return disagree(d, "body: server %zu bytes, reference %zu", cmn_buf_unread(&r->body),
                        ref->body_len);
    return 0;
}

/* The server's verdict on the message from msg (refused, or wanting more)
 * against the reference's. */
static int compare_not_done(const chd_request_t *r, const ref_result_t *ref, ref_diff_t *d)
{
    if (r->phase == CHD_REQ_ERROR) {
        if (ref->status == 0)
            return disagree(d, "server refused with %d (%s), reference accepted",
                            r->error_status, r->error_reason);
        /* The server may refuse a prefix the reference has not judged yet
         * (http-parser refuses a bad target before its SP; the reference
         * judges the target's form once the head is whole). Not a
         * disagreement: every completion of it is refused by the server,
         * and a completion the reference accepted would be caught as a
         * message of its own. */
        if (ref->status == REF_INCOMPLETE)
            return 0;
        if (d->compare_status && ref->status != r->error_status)
            return disagree(d, "status: server %d (%s), reference %d", r->error_status,
                            r->error_reason, ref->status);
        return 0;
    }
    if (ref->status == 0)
        return disagree(d, "server wants more, reference accepted %zu bytes", ref->used);
    return 0;
}

static int verdict(const chd_request_t *r)
{
    if (r->phase == CHD_REQ_DONE)
        return 0;
    return r->phase == CHD_REQ_ERROR ? r->error_status : -1;
}

int ref_diff_run(chd_request_t *r, const char *data, size_t len, size_t step,
                 void (*on_done)(void *ctx), void *ctx, ref_diff_t *d)
{
    ref_limits_t lim = {(int)r->limits->fields, r->limits->body};
    size_t off = 0, msg = 0;
    int rc = 0, messages = 0;
    d->why[0] = '\0';
    d->server_status = d->ref_status = -1;
    d->accepted = 0;
    while (rc == 0) {
        if (off < len) {
            size_t n = step && step < len - off ? step : len - off;
            size_t used = chd_request_feed(r, data + off, n);
            off += used;
            if (r->phase != CHD_REQ_DONE && r->phase != CHD_REQ_ERROR && used < n)
                return disagree(d, "server stopped early without a verdict");
            if (r->phase != CHD_REQ_DONE && r->phase != CHD_REQ_ERROR && off < len)
                continue;
        }
        ref_result_t ref;
        ref_parse(data + msg, len - msg, &lim, &ref);
        if (messages++ == 0) {
            d->server_status = verdict(r);
            d->ref_status = ref.status;
        }
        bool done = r->phase == CHD_REQ_DONE;
        rc = done ? compare_done(r, &ref, off - msg, d) : compare_not_done(r, &ref, d);
        ref_result_free(&ref);
        if (!done)
            break;
        if (on_done)
            on_done(ctx);
        chd_request_reset(r);
        msg = d->accepted = off;
        if (off == len)
            break; /* nothing after the last message */
    }
    return rc;
}
