/* chd_target: see chd_target.h. */
#include "chd_target.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

/* reg-name bytes other than "%": unreserved / sub-delims (RFC 3986 3.2.2):
 *   unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"
 *   sub-delims = "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," / ";" / "="
 * A table: Host is checked on every request. */
static const uint8_t reg_name_table[256] = {
    ['!'] = 1, ['$'] = 1, ['&'] = 1, ['\''] = 1, ['('] = 1, [')'] = 1, ['*'] = 1, ['+'] = 1,
    [','] = 1, [';'] = 1, ['='] = 1, ['-'] = 1, ['.'] = 1, ['_'] = 1, ['~'] = 1,
    ['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1,
};

static bool is_reg_name_byte(unsigned char c) { return reg_name_table[c]; }

static bool is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* A non-empty reg-name: its length, or 0 when s[0..len) does not start with one. */
static size_t reg_name_length(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%' && len - i >= 3 && is_hex((unsigned char)s[i + 1]) &&
            is_hex((unsigned char)s[i + 2]))
            i += 3;
        else if (is_reg_name_byte(c))
            i++;
        else
            break;
    }
    return i;
}

/* "[" IPv6address "]" at s: its length with the brackets, or 0. The
 * address itself is left to inet_pton, which takes RFC 4291's text forms,
 * the ones RFC 3986's IPv6address describes. */
static size_t ip_literal_length(const char *s, size_t len)
{
    const char *close = memchr(s, ']', len);
    char text[INET6_ADDRSTRLEN];
    size_t n = close ? (size_t)(close - s) - 1 : 0;
    if (!close || n == 0 || n >= sizeof text)
        return 0;
    memcpy(text, s + 1, n);
    text[n] = '\0';
    struct in6_addr addr;
    return inet_pton(AF_INET6, text, &addr) == 1 ? n + 2 : 0;
}

/* port = 1*5DIGIT, at most 65535 (a policy: the ABNF allows *DIGIT). */
static int32_t port_value(const char *s, size_t len)
{
    if (len == 0 || len > 5)
        return -1;
    int32_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v <= 65535 ? v : -1;
}

int chd_authority_parse(const char *s, size_t len, uint32_t *host_len, int32_t *port)
{
    size_t h = len > 0 && s[0] == '[' ? ip_literal_length(s, len) : reg_name_length(s, len);
    if (h == 0)
        return -EINVAL;
    *host_len = (uint32_t)h;
    *port = -1;
    if (h == len)
        return 0;
    if (s[h] != ':' || (*port = port_value(s + h + 1, len - h - 1)) < 0)
        return -EINVAL;
    return 0;
}

/* Length of "scheme://" at url when scheme is 1*ALPHA, else 0. RFC 3986
 * allows digits, "+", "-" and "." after the first letter; http-parser does
 * not, and the schemes an origin server sees (http, https) need none. */
static size_t scheme_prefix_length(const char *url, size_t len)
{
    size_t i = 0;
    while (i < len && ((url[i] | 0x20) >= 'a' && (url[i] | 0x20) <= 'z'))
        i++;
    if (i == 0 || len - i < 3 || memcmp(url + i, "://", 3) != 0)
        return 0;
    return i + 3;
}

/* absolute-form: the authority runs to the path or the query. A fragment
 * has no place in a request-target (absolute-URI has none), so a "#" right
 * after the authority makes it invalid, as it does for http-parser. */
static int parse_absolute(const char *url, size_t len, size_t prefix, chd_target_t *t)
{
    size_t end = prefix;
    while (end < len && url[end] != '/' && url[end] != '?')
        end++;
    t->form = CHD_TARGET_ABSOLUTE;
    t->scheme_len = (uint16_t)(prefix - 3);
    t->host_off = (uint32_t)prefix;
    t->authority_len = (uint32_t)(end - prefix);
    return chd_authority_parse(url + prefix, end - prefix, &t->host_len, &t->port);
}

int chd_target_parse(const char *url, size_t len, chd_target_t *t)
{
    memset(t, 0, sizeof *t);
    t->port = -1;
    if (len > 0 && url[0] == '/') {
        t->form = CHD_TARGET_ORIGIN; /* the head check vetted its bytes */
        return 0;
    }
    if (len == 1 && url[0] == '*') {
        t->form = CHD_TARGET_ASTERISK;
        return 0;
    }
    size_t prefix = scheme_prefix_length(url, len);
    if (prefix > 0)
        return parse_absolute(url, len, prefix, t);
    /* authority-form = uri-host ":" port: the port is required */
    t->form = CHD_TARGET_AUTHORITY;
    t->authority_len = (uint32_t)len;
    if (chd_authority_parse(url, len, &t->host_len, &t->port) < 0 || t->port < 0)
        return -EINVAL;
    return 0;
}

bool chd_target_allowed(chd_target_form_t form, bool is_connect, bool is_options)
{
    if (is_connect)
        return form == CHD_TARGET_AUTHORITY;
    if (form == CHD_TARGET_ASTERISK)
        return is_options;
    return form != CHD_TARGET_AUTHORITY;
}
