/* chd_forwarded: see chd_forwarded.h. */
#include "chd_forwarded.h"

#include "cmn_iplist.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Copies [s, s+len) trimmed of spaces and quotes into out. */
static void copy_trimmed(const char *s, size_t len, char *out, size_t cap)
{
    while (len && (*s == ' ' || *s == '\t' || *s == '"'))
        s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '"'))
        len--;
    if (len > cap - 1)
        len = cap - 1;
    memcpy(out, s, len); /* no snprintf: it runs for every proxied request, twice when logged */
    out[len] = '\0';
}

/* The last comma-separated element of a value. */
static void last_element(const char *v, size_t len, const char **start, size_t *elen)
{
    const char *comma = NULL;
    for (size_t i = 0; i < len; i++)
        if (v[i] == ',')
            comma = v + i;
    *start = comma ? comma + 1 : v;
    *elen = (size_t)(v + len - *start);
}

/* "for" value forms: 192.0.2.1, "192.0.2.1:80", "[2001:db8::1]:80". */
static void strip_port(char *addr)
{
    if (addr[0] == '[') {
        char *close = strchr(addr, ']');
        if (close) {
            *close = '\0';
            memmove(addr, addr + 1, strlen(addr + 1) + 1);
        }
        return;
    }
    char *colon = strchr(addr, ':');
    if (colon && !strchr(colon + 1, ':'))
        *colon = '\0'; /* one colon: IPv4 with a port */
}

static void set_scheme(chd_forwarded_t *out, const char *v, size_t len)
{
    char s[16];
    copy_trimmed(v, len, s, sizeof s);
    if (strcasecmp(s, "https") == 0)
        strcpy(out->scheme, "https");
    else if (strcasecmp(s, "http") == 0)
        strcpy(out->scheme, "http");
}

/* Forwarded: for=...;proto=... of the last element (the nearest proxy). */
static void read_forwarded(const char *v, size_t len, chd_forwarded_t *out)
{
    const char *el;
    size_t elen;
    last_element(v, len, &el, &elen);
    while (elen > 0) {
        size_t plen = 0;
        while (plen < elen && el[plen] != ';')
            plen++;
        const char *eq = memchr(el, '=', plen);
        if (eq) {
            char key[16];
            copy_trimmed(el, (size_t)(eq - el), key, sizeof key);
            size_t vlen = plen - (size_t)(eq + 1 - el);
            if (strcasecmp(key, "for") == 0) {
                copy_trimmed(eq + 1, vlen, out->addr, sizeof out->addr);
                strip_port(out->addr);
            } else if (strcasecmp(key, "proto") == 0) {
                set_scheme(out, eq + 1, vlen);
            }
        }
        el += plen + (plen < elen);
        elen -= plen + (plen < elen);
    }
}

void chd_forwarded_client(const chd_request_t *req, const chd_header_t *forwarded,
                          const chd_header_t *xff, chd_forwarded_t *out)
{
    out->addr[0] = out->scheme[0] = '\0';
    if (forwarded) {
        read_forwarded(chd_header_value(req, forwarded), forwarded->value_len, out);
    } else if (xff) {
        const char *el;
        size_t elen;
        last_element(chd_header_value(req, xff), xff->value_len, &el, &elen);
        copy_trimmed(el, elen, out->addr, sizeof out->addr);
    }
    if (out->addr[0] && !cmn_is_ip_address(out->addr))
        out->addr[0] = '\0'; /* "unknown", an obfuscated name: nothing usable */
}

void chd_forwarded_read(const chd_request_t *req, chd_forwarded_t *out)
{
    const chd_header_t *fwd = chd_request_find_header(req, "Forwarded");
    chd_forwarded_client(req, fwd, fwd ? NULL : chd_request_find_header(req, "X-Forwarded-For"),
                         out);
    const chd_header_t *xfp = fwd ? NULL : chd_request_find_header(req, "X-Forwarded-Proto");
    if (xfp) {
        const char *el;
        size_t elen;
        last_element(chd_header_value(req, xfp), xfp->value_len, &el, &elen);
        set_scheme(out, el, elen);
    }
}
