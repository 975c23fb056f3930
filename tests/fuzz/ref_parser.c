/* ref_parser: see ref_parser.h. Section numbers are RFC 9112's unless
 * said otherwise; "POLICY" marks where Spawning chose within the RFC's
 * latitude (or, twice, where a dependency's limit decides), and the
 * reference follows the choice on purpose. */
#include "ref_parser.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const unsigned char *p;
    size_t len, i;
    const ref_limits_t *lim;
    ref_result_t *out;
    int fields_cap;
} ref_t;

/* ---- RFC 5234 core rules and RFC 9110 5.6.2 ------------------------------ */

static bool is_alpha(int c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_hexdig(int c)
{
    return is_digit(c) || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
}
static bool is_vchar(int c) { return c >= 0x21 && c <= 0x7e; }
static bool is_obs_text(int c) { return c >= 0x80 && c <= 0xff; }
static bool is_ws(int c) { return c == ' ' || c == '\t'; }

/* tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
 *         "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA */
static bool is_tchar(int c)
{
    return is_alpha(c) || is_digit(c) || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* field-vchar = VCHAR / obs-text, with SP and HTAB inside a value (RFC 9110
 * 5.5). POLICY: other CTLs are refused, not retained (5.5 lets a recipient
 * retain them; http-parser refuses them, and so does the server). */
static bool is_field_byte(int c) { return is_vchar(c) || is_obs_text(c) || is_ws(c); }

static bool ieq(const char *a, size_t n, const char *lower)
{
    if (strlen(lower) != n)
        return false;
    for (size_t k = 0; k < n; k++) {
        int c = (unsigned char)a[k];
        if (c >= 'A' && c <= 'Z')
            c += 32;
        if (c != (unsigned char)lower[k])
            return false;
    }
    return true;
}

/* ---- the message ---------------------------------------------------------- */

#define NEED(r)                                                                                    \
    do {                                                                                           \
        if ((r)->i >= (r)->len)                                                                    \
            return REF_INCOMPLETE;                                                                 \
    } while (0)

/* CRLF; a lone CR or LF is a 400. POLICY: 2.2 lets a recipient take a bare
 * LF as a line end ("MAY"); we never do, as the bytes could mean another
 * message to another parser. */
static int crlf(ref_t *r)
{
    NEED(r);
    if (r->p[r->i] != '\r')
        return 400;
    r->i++;
    NEED(r);
    if (r->p[r->i] != '\n')
        return 400;
    r->i++;
    return 0;
}

/* 2.2: a server SHOULD ignore at least one empty line (CRLF) before the
 * request-line. POLICY: any number of them. */
static int leading_empty_lines(ref_t *r)
{
    for (;;) {
        NEED(r);
        if (r->p[r->i] == '\n')
            return 400;
        if (r->p[r->i] != '\r')
            return 0;
        int rc = crlf(r);
        if (rc)
            return rc;
    }
}

/* method = token, then SP (3.1, RFC 9110 9.1) */
static int method(ref_t *r)
{
    size_t start = r->i;
    for (;;) {
        NEED(r);
        int c = r->p[r->i];
        if (c == ' ' && r->i > start)
            break;
        if (!is_tchar(c))
            return 400;
        r->i++;
    }
    r->out->method = (const char *)r->p + start;
    r->out->method_len = r->i - start;
    r->i++;
    return 0;
}

/* request-target, then SP. Its form is judged once the head is whole
 * (check_target); here only its bytes. POLICY: 3.2's forms are made of
 * URI characters, but clients send raw UTF-8 and characters such as "|"
 * or "{"; 3.2 asks for a 400 or a redirect only as a SHOULD, and we accept
 * any VCHAR or obs-text. */
static int target(ref_t *r)
{
    size_t start = r->i;
    for (;;) {
        NEED(r);
        int c = r->p[r->i];
        if (c == ' ' && r->i > start)
            break;
        if (!is_vchar(c) && !is_obs_text(c))
            return 400;
        r->i++;
    }
    r->out->target = (const char *)r->p + start;
    r->out->target_len = r->i - start;
    r->i++;
    return 0;
}

/* HTTP-version = HTTP-name "/" DIGIT "." DIGIT, HTTP-name = %s"HTTP" (2.3) */
static int version(ref_t *r)
{
    static const char name[] = "HTTP/";
    for (int k = 0; k < 5; k++) {
        NEED(r);
        if (r->p[r->i++] != (unsigned char)name[k])
            return 400;
    }
    int digits[2];
    for (int k = 0; k < 2; k++) {
        NEED(r);
        if (!is_digit(r->p[r->i]))
            return 400;
        digits[k] = r->p[r->i++] - '0';
        if (k == 0) {
            NEED(r);
            if (r->p[r->i++] != '.')
                return 400;
        }
    }
    r->out->major = digits[0];
    r->out->minor = digits[1];
    return crlf(r);
}

static int add_field(ref_t *r, size_t name, size_t name_len, size_t value, size_t value_len)
{
    ref_result_t *o = r->out;
    if (o->nfields == r->fields_cap) {
        int cap = r->fields_cap ? r->fields_cap * 2 : 16;
        ref_field_t *f = realloc(o->fields, (size_t)cap * sizeof *f);
        if (!f)
            abort();
        o->fields = f;
        r->fields_cap = cap;
    }
    o->fields[o->nfields++] = (ref_field_t){(const char *)r->p + name, (const char *)r->p + value,
                                            name_len, value_len};
    return 0;
}

/* field-line = field-name ":" OWS field-value OWS (5), then CRLF; the
 * value is kept without the OWS. keep: false for trailers. */
static int field_line(ref_t *r, bool keep)
{
    size_t name = r->i;
    for (;;) {
        NEED(r);
        int c = r->p[r->i];
        if (c == ':' && r->i > name)
            break;
        /* 5.1: no whitespace between name and colon (a 400) */
        if (!is_tchar(c))
            return 400;
        r->i++;
    }
    size_t name_len = r->i - name;
    /* POLICY (RFC 9110 6.5.1): framing fields in trailers are refused */
    if (!keep && (ieq((const char *)r->p + name, name_len, "content-length") ||
                  (name_len >= 17 && ieq((const char *)r->p + name, 17, "transfer-encoding"))))
        return 400;
    r->i++;
    size_t value = r->i;
    for (;;) {
        NEED(r);
        int c = r->p[r->i];
        if (c == '\r')
            break;
        /* 5.5: CR, LF or NUL in a value: reject (or replace; we reject) */
        if (!is_field_byte(c))
            return 400;
        r->i++;
    }
    size_t end = r->i;
    while (value < end && is_ws(r->p[value]))
        value++;
    while (end > value && is_ws(r->p[end - 1]))
        end--;
    int rc = crlf(r);
    if (rc == 0 && keep)
        add_field(r, name, name_len, value, end - value);
    return rc;
}

/* *( field-line CRLF ) CRLF. A line that starts with whitespace is obs-fold
 * (5.2), or whitespace before the first field (2.2): POLICY: both rejected
 * with 400 (the RFC's other choice is to replace or ignore them). */
static int field_section(ref_t *r, bool keep)
{
    int n = 0;
    for (;;) {
        NEED(r);
        int c = r->p[r->i];
        if (c == '\r')
            return crlf(r);
        if (is_ws(c))
            return 400;
        if (n++ == r->lim->max_fields)
            return 431;
        int rc = field_line(r, keep);
        if (rc)
            return rc;
    }
}

/* ---- the head's meaning (checked in the server's order) ------------------- */

typedef struct {
    int hosts, lengths, te_fields, content_types, authorizations, proxy_authorizations;
    const ref_field_t *host, *length;
    int codings, chunked;
    bool te_empty, last_chunked;
} summary_t;

/* Transfer-Encoding = #transfer-coding (RFC 9110 10.1.4, 5.6.1).
 * POLICY: stricter than the #rule, which lets empty elements be ignored:
 * no empty element and no HTAB (after the value's first byte; the raw
 * bytes after the trimmed value run to its CR), since http-parser, which
 * frames the body, reads such lists its own way; 6.3 makes a framing in
 * doubt a 400. */
static void te_codings(const ref_field_t *f, summary_t *s)
{
    size_t end = f->value_len;
    while (f->value[end] != '\r')
        end++;
    if (memchr(f->value, '\t', end))
        s->te_empty = true;
    size_t i = 0, items = 0, elements = 1;
    for (size_t k = 0; k < f->value_len; k++)
        elements += f->value[k] == ',';
    while (i <= f->value_len) {
        size_t start = i;
        while (i < f->value_len && f->value[i] != ',')
            i++;
        size_t a = start, b = i;
        while (a < b && is_ws((unsigned char)f->value[a]))
            a++;
        while (b > a && is_ws((unsigned char)f->value[b - 1]))
            b--;
        if (b > a) {
            items++;
            s->codings++;
            s->last_chunked = ieq(f->value + a, b - a, "chunked");
            s->chunked += s->last_chunked;
        }
        i++;
    }
    if (items == 0 || items != elements)
        s->te_empty = true; /* a 400 */
}

static summary_t summarize(const ref_result_t *o)
{
    summary_t s;
    memset(&s, 0, sizeof s);
    for (int k = 0; k < o->nfields; k++) {
        const ref_field_t *f = &o->fields[k];
        if (ieq(f->name, f->name_len, "host")) {
            if (!s.hosts++)
                s.host = f;
        } else if (ieq(f->name, f->name_len, "content-length")) {
            s.lengths++;
            s.length = f;
        } else if (ieq(f->name, f->name_len, "transfer-encoding")) {
            s.te_fields++;
            te_codings(f, &s);
        } else if (ieq(f->name, f->name_len, "content-type")) {
            s.content_types++;
        } else if (ieq(f->name, f->name_len, "authorization")) {
            s.authorizations++;
        } else if (ieq(f->name, f->name_len, "proxy-authorization")) {
            s.proxy_authorizations++;
        }
    }
    return s;
}

/* The value of n decimal digits (already checked). */
static unsigned long long digits_value(const char *s, size_t n)
{
    unsigned long long v = 0;
    for (size_t k = 0; k < n; k++)
        v = v * 10 + (unsigned long long)(s[k] - '0');
    return v;
}

/* Content-Length = 1*DIGIT (8.6). POLICY: at most 18 digits, so that it
 * fits a 64-bit count without overflow (RFC 9110 8.6 asks recipients to
 * anticipate large numbers and guard against overflow); and no HTAB after
 * the digits (the raw bytes after the trimmed value run to its CR), which
 * http-parser, which frames the body by it, refuses: a framing field in
 * doubt is a 400 (RFC 9112 6.3). */
static bool content_length_ok(const ref_field_t *f)
{
    if (f->value_len == 0 || f->value_len > 18)
        return false;
    size_t end = f->value_len;
    while (f->value[end] != '\r')
        end++;
    if (memchr(f->value, '\t', end))
        return false;
    for (size_t k = 0; k < f->value_len; k++)
        if (!is_digit((unsigned char)f->value[k]))
            return false;
    return true;
}

/* 6.1, 6.3: a Transfer-Encoding the server can frame by is exactly one
 * final "chunked"; other codings are 501 (RFC 9110 15.6.2), and anything
 * that leaves the framing in doubt is 400. */
static int te_verdict(const summary_t *s, int minor)
{
    if (s->te_empty || minor == 0) /* 6.1: HTTP/1.0 has no Transfer-Encoding */
        return 400;
    if (!s->last_chunked)
        return s->chunked ? 400 : 501;
    if (s->chunked > 1)
        return 400;
    return s->codings > 1 ? 501 : 0;
}

/* POLICY: a name that starts with "Transfer-Encoding" and goes on is a
 * legal token, but http-parser takes it for Transfer-Encoding; the server
 * refuses it (RFC 9110 15.5.1: 400 for what the server perceives as a
 * client error) rather than frame a body by it. */
static bool te_lookalike(const ref_field_t *f)
{
    return f->name_len > 17 && ieq(f->name, 17, "transfer-encoding");
}

static int framing(const summary_t *s, const ref_result_t *o)
{
    for (int k = 0; k < o->nfields; k++)
        if (ieq(o->fields[k].name, o->fields[k].name_len, "content-length") &&
            !content_length_ok(&o->fields[k]))
            return 400;
    for (int k = 0; k < o->nfields; k++)
        if (te_lookalike(&o->fields[k]))
            return 400;
    /* 3.2: Host exactly once in HTTP/1.1, at most once in HTTP/1.0 */
    if (s->hosts > 1 || (s->hosts == 0 && o->minor >= 1))
        return 400;
    /* 6.3: one Content-Length (POLICY: even a repeated equal value is a 400,
     * which 6.3 allows), never with Transfer-Encoding (6.1 "MAY" reject) */
    if (s->lengths > 1 || (s->lengths && s->te_fields))
        return 400;
    int v = s->te_fields ? te_verdict(s, o->minor) : 0;
    if (v)
        return v;
    /* POLICY (RFC 9110 5.3): singletons whose second line would change what
     * the request means are refused when repeated. */
    if (s->content_types > 1 || s->authorizations > 1 || s->proxy_authorizations > 1)
        return 400;
    return 0;
}

/* ---- RFC 3986 3.2.2 host, 3.2.3 port ---------------------------------------- */

/* dec-octet = DIGIT / %x31-39 DIGIT / "1" 2DIGIT / "2" %x30-34 DIGIT / "25" %x30-35 */
static size_t dec_octet(const char *s, size_t n)
{
    size_t k = 0;
    while (k < n && k < 3 && is_digit((unsigned char)s[k]))
        k++;
    if (k == 0 || (k > 1 && s[0] == '0'))
        return 0;
    int v = 0;
    for (size_t j = 0; j < k; j++)
        v = v * 10 + (s[j] - '0');
    return v <= 255 ? k : 0;
}

/* IPv4address = dec-octet "." dec-octet "." dec-octet "." dec-octet */
static bool ipv4_exact(const char *s, size_t n)
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= n || s[i] != '.')
                return false;
            i++;
        }
        size_t k = dec_octet(s + i, n - i);
        if (k == 0)
            return false;
        i += k;
    }
    return i == n;
}

/* One side of "::" (or the whole address): h16 *( ":" h16 ), the last one
 * perhaps an IPv4address (ls32) when may_end_v4. Returns the 16-bit units
 * it stands for, or -1. An empty side is 0 units. */
static int ipv6_units(const char *s, size_t n, bool may_end_v4)
{
    if (n == 0)
        return 0;
    int units = 0;
    size_t i = 0;
    for (;;) {
        size_t j = i;
        while (j < n && s[j] != ':')
            j++;
        if (j == n && may_end_v4 && memchr(s + i, '.', n - i))
            return ipv4_exact(s + i, n - i) ? units + 2 : -1;
        /* h16 = 1*4HEXDIG */
        if (j == i || j - i > 4)
            return -1;
        for (size_t k = i; k < j; k++)
            if (!is_hexdig((unsigned char)s[k]))
                return -1;
        units++;
        if (j == n)
            return units;
        i = j + 1;
        if (i == n)
            return -1; /* a trailing single ":" */
    }
}

/* IPv6address (RFC 3986 3.2.2), the nine alternatives folded: without
 * "::", exactly 8 units (6 h16 and an ls32); with one "::", at most 7 units
 * around it, the ls32 only at the very end. */
static bool ipv6_address(const char *s, size_t n)
{
    const char *dc = NULL;
    for (size_t k = 0; k + 1 < n; k++)
        if (s[k] == ':' && s[k + 1] == ':') {
            dc = s + k;
            break;
        }
    if (!dc)
        return ipv6_units(s, n, true) == 8;
    size_t left = (size_t)(dc - s), rs = left + 2;
    for (size_t k = rs; k + 1 < n; k++)
        if (s[k] == ':' && s[k + 1] == ':')
            return false; /* only one "::" */
    if (rs < n && s[rs] == ':')
        return false; /* ":::" */
    int a = ipv6_units(s, left, false), b = ipv6_units(s + rs, n - rs, true);
    return a >= 0 && b >= 0 && a + b <= 7;
}

/* reg-name = *( unreserved / pct-encoded / sub-delims ) */
static bool reg_name(const char *s, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        int c = (unsigned char)s[k];
        if (c == '%') {
            if (k + 2 >= n || !is_hexdig((unsigned char)s[k + 1]) ||
                !is_hexdig((unsigned char)s[k + 2]))
                return false;
            k += 2;
        } else if (!is_alpha(c) && !is_digit(c) && !strchr("-._~!$&'()*+,;=", c)) {
            return false;
        }
    }
    return true;
}

/* uri-host [":" port]. POLICY: the host is not empty (RFC 9110 4.2.1: an
 * http URI with an empty host is invalid); no IPvFuture and no userinfo
 * (RFC 9110 4.2.4: treat userinfo as an error); a present port is 1 to 5
 * digits, at most 65535 (the ABNF's *DIGIT admits no real port more). */
static bool authority(const char *s, size_t n, bool need_port)
{
    size_t host = 0;
    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close || !ipv6_address(s + 1, (size_t)(close - s) - 1))
            return false;
        host = (size_t)(close - s) + 1;
    } else {
        while (host < n && s[host] != ':')
            host++;
        if (host == 0 || !reg_name(s, host))
            return false;
    }
    if (host == n)
        return !need_port;
    if (s[host] != ':')
        return false;
    size_t digits = n - host - 1;
    if (digits == 0 || digits > 5)
        return false;
    long port = 0;
    for (size_t k = host + 1; k < n; k++) {
        if (!is_digit((unsigned char)s[k]))
            return false;
        port = port * 10 + (s[k] - '0');
    }
    return port <= 65535;
}

/* ---- 3.2 the request-target's forms ------------------------------------- */

/* The methods the server implements: the ones http-parser knows. */
static bool known_method(const char *m, size_t n)
{
    static const char *const names[] = {
        "DELETE", "GET", "HEAD", "POST", "PUT", "CONNECT", "OPTIONS", "TRACE", "COPY", "LOCK",
        "MKCOL", "MOVE", "PROPFIND", "PROPPATCH", "SEARCH", "UNLOCK", "BIND", "REBIND", "UNBIND",
        "ACL", "REPORT", "MKACTIVITY", "CHECKOUT", "MERGE", "M-SEARCH", "NOTIFY", "SUBSCRIBE",
        "UNSUBSCRIBE", "PATCH", "PURGE", "MKCALENDAR", "LINK", "UNLINK", "SOURCE",
    };
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (strlen(names[k]) == n && memcmp(names[k], m, n) == 0)
            return true; /* methods are case-sensitive (RFC 9110 9.1) */
    return false;
}

static bool is_method(const ref_result_t *o, const char *name)
{
    return known_method(o->method, o->method_len) && strlen(name) == o->method_len &&
           memcmp(name, o->method, o->method_len) == 0;
}

/* absolute-form = absolute-URI (3.2.2): scheme ":" "//" authority
 * path-abempty [ "?" query ]. POLICY: the scheme is letters only
 * (http-parser's limit; http and https are), the authority is required
 * (the http(s) form), and a "#" fragment is dropped after the path (it is
 * no part of a target, but clients send it). */
static bool absolute_form(const char *t, size_t n)
{
    size_t k = 0;
    while (k < n && is_alpha((unsigned char)t[k]))
        k++;
    if (k == 0 || n - k < 3 || memcmp(t + k, "://", 3) != 0)
        return false;
    size_t a = k + 3, e = a;
    while (e < n && t[e] != '/' && t[e] != '?')
        e++;
    return authority(t + a, e - a, false);
}

static int check_target(const ref_result_t *o)
{
    const char *t = o->target;
    size_t n = o->target_len;
    bool connect = is_method(o, "CONNECT");
    bool ok;
    if (connect) /* authority-form = uri-host ":" port, CONNECT only (3.2.3) */
        ok = t[0] != '/' && authority(t, n, true);
    else if (n == 1 && t[0] == '*') /* asterisk-form, OPTIONS only (3.2.4) */
        ok = is_method(o, "OPTIONS");
    else /* origin-form (3.2.1) or absolute-form */
        ok = t[0] == '/' || absolute_form(t, n);
    if (!ok)
        return 400;
    /* POLICY: an origin server, not a tunnel: CONNECT is not implemented
     * (RFC 9110 9.3.6, 15.6.2), nor any method http-parser does not know */
    if (connect || !known_method(o->method, o->method_len))
        return 501;
    return 0;
}

static int head_meaning(const ref_result_t *o, const summary_t *s, const ref_limits_t *lim)
{
    if (o->major != 1 || o->minor > 1)
        return 505; /* RFC 9110 15.6.6 */
    int rc = framing(s, o);
    if (rc)
        return rc;
    /* 3.2: a Host field with an invalid value is a 400 (empty is valid) */
    if (s->host && s->host->value_len > 0 && !authority(s->host->value, s->host->value_len, false))
        return 400;
    if ((rc = check_target(o)) != 0)
        return rc;
    if (s->length && lim->max_body &&
        digits_value(s->length->value, s->length->value_len) > lim->max_body)
        return 413;
    return 0;
}

/* ---- the body (6.3, 7.1) -------------------------------------------------- */

static void body_append(ref_result_t *o, const unsigned char *p, size_t n)
{
    if (n == 0)
        return;
    char *b = realloc(o->body, o->body_len + n);
    if (!b)
        abort();
    memcpy(b + o->body_len, p, n);
    o->body = b;
    o->body_len += n;
}

static int fixed_body(ref_t *r, unsigned long long n)
{
    if (r->len - r->i < n)
        return REF_INCOMPLETE;
    body_append(r->out, r->p + r->i, (size_t)n);
    r->i += (size_t)n;
    return 0;
}

/* chunk-size [ chunk-ext ] CRLF, with chunk-size = 1*HEXDIG and chunk-ext
 * = *( BWS ";" BWS name [ BWS "=" BWS value ] ): whitespace only before a
 * ";" (7.1). POLICY: at most 16 digits (7.1 asks to guard against
 * overflow), and an extension's text is not parsed further (7.1.1:
 * unrecognized extensions are ignored, and we recognize none): any HTAB,
 * SP, VCHAR or obs-text up to the CRLF. */
static int chunk_size_line(ref_t *r, unsigned long long *size)
{
    int digits = 0;
    *size = 0;
    for (;;) {
        NEED(r);
        int c = r->p[r->i];
        if (!is_hexdig(c))
            break;
        if (++digits > 16)
            return 400;
        *size = *size * 16 + (unsigned long long)(is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10);
        r->i++;
    }
    if (digits == 0)
        return 400;
    bool ws = false;
    while (is_ws(r->p[r->i])) {
        ws = true;
        r->i++;
        NEED(r);
    }
    if (r->p[r->i] == ';') {
        for (r->i++;; r->i++) {
            NEED(r);
            int c = r->p[r->i];
            if (c == '\r')
                break;
            if (c != '\t' && c != ' ' && !is_vchar(c) && !is_obs_text(c))
                return 400;
        }
    } else if (ws) {
        return 400; /* BWS then CRLF: "0 \r\n" */
    }
    return crlf(r);
}

/* chunked-body = *chunk last-chunk trailer-section CRLF (7.1). Trailer
 * fields are checked, then dropped: never merged into the head's (RFC 9110
 * 6.5.1). */
static int chunked_body(ref_t *r)
{
    for (;;) {
        unsigned long long size;
        int rc = chunk_size_line(r, &size);
        if (rc)
            return rc;
        if (size == 0)
            return field_section(r, false);
        if ((rc = fixed_body(r, size)) != 0 || (rc = crlf(r)) != 0)
            return rc;
    }
}

/* ---- all of it -------------------------------------------------------------- */

static int request(ref_t *r)
{
    int rc;
    if ((rc = leading_empty_lines(r)) || (rc = method(r)) || (rc = target(r)) ||
        (rc = version(r)) || (rc = field_section(r, true)))
        return rc;
    summary_t s = summarize(r->out);
    if ((rc = head_meaning(r->out, &s, r->lim)) != 0)
        return rc;
    if (s.te_fields)
        return chunked_body(r);
    if (s.length)
        return fixed_body(r, digits_value(s.length->value, s.length->value_len));
    return 0; /* 6.3: no framing field, no body */
}

int ref_parse(const char *data, size_t len, const ref_limits_t *limits, ref_result_t *out)
{
    memset(out, 0, sizeof *out);
    ref_t r = {(const unsigned char *)data, len, 0, limits, out, 0};
    out->status = request(&r);
    out->used = out->status == 0 ? r.i : 0;
    return out->status;
}

void ref_result_free(ref_result_t *out)
{
    free(out->fields);
    free(out->body);
    out->fields = NULL;
    out->body = NULL;
}
