/* chd_proxyproto: see chd_proxyproto.h. */
#include "chd_proxyproto.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

_Static_assert(CHD_PROXY_V2_MAX_BODY == 4096, "the log text says 4096");

static const char v1_sig[6] = "PROXY ";
static const unsigned char v2_sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                         0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

/* True when the first min(len, siglen) bytes of data match sig. */
static bool prefix_matches(const unsigned char *data, size_t len, const void *sig, size_t siglen)
{
    return memcmp(data, sig, len < siglen ? len : siglen) == 0;
}

chd_proxy_detect_t chd_proxy_detect(const void *data, size_t len)
{
    const unsigned char *p = data;
    if (len == 0)
        return CHD_PROXY_DETECT_MORE; /* data may be NULL then */
    bool v1 = prefix_matches(p, len, v1_sig, sizeof v1_sig);
    bool v2 = prefix_matches(p, len, v2_sig, sizeof v2_sig);
    if (v1 && len >= sizeof v1_sig)
        return CHD_PROXY_DETECT_V1;
    if (v2 && len >= sizeof v2_sig)
        return CHD_PROXY_DETECT_V2;
    return v1 || v2 ? CHD_PROXY_DETECT_MORE : CHD_PROXY_DETECT_NONE;
}

static chd_proxy_verdict_t bad(chd_proxy_header_t *out, const char *why)
{
    out->why = why;
    return CHD_PROXY_BAD;
}

/* --- v1 ------------------------------------------------------------------ */

/* A port: 1 to 5 decimal digits, no leading zero (but "0"), at most 65535. */
static bool v1_port(const char *s, size_t len, uint16_t *out)
{
    if (len == 0 || len > 5 || (s[0] == '0' && len > 1))
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > 65535)
        return false;
    *out = (uint16_t)v;
    return true;
}

/* An address of the family, as inet_pton reads it. The characters are
 * checked first: the copy handed to inet_pton ends at the token's end, so
 * a NUL inside the token would otherwise cut it short unseen. */
static bool v1_address(int family, const char *s, size_t len, unsigned char *out)
{
    char text[64];
    if (len == 0 || len >= sizeof text)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!strchr("0123456789abcdefABCDEF:.", s[i]) || s[i] == '\0')
            return false;
    memcpy(text, s, len);
    text[len] = '\0';
    return inet_pton(family, text, out) == 1;
}

/* The next field of a line: up to the next single space, or to the end
 * for the last one. Advances *s past the field and its space. */
static bool v1_field(const char **s, const char *end, bool last, const char **field, size_t *len)
{
    const char *sp = memchr(*s, ' ', (size_t)(end - *s));
    if (last != (sp == NULL))
        return false; /* a missing field, or one too many */
    *field = *s;
    *len = (size_t)((sp ? sp : end) - *s);
    *s = sp ? sp + 1 : end;
    return *len > 0; /* two spaces in a row make an empty field */
}

/* "TCP4 SRC DST SPORT DPORT": the line after "PROXY ", CRLF excluded. */
static chd_proxy_verdict_t v1_fields(const char *s, const char *end, chd_proxy_header_t *out)
{
    const char *f[5];
    size_t n[5];
    for (int i = 0; i < 5; i++)
        if (!v1_field(&s, end, i == 4, &f[i], &n[i]))
            return bad(out, "v1: not five single-space separated fields");
    if (n[0] != 4 || (memcmp(f[0], "TCP4", 4) != 0 && memcmp(f[0], "TCP6", 4) != 0))
        return bad(out, "v1: protocol is not TCP4, TCP6 or UNKNOWN");
    out->family = f[0][3] == '4' ? AF_INET : AF_INET6;
    if (!v1_address(out->family, f[1], n[1], out->src) ||
        !v1_address(out->family, f[2], n[2], out->dst))
        return bad(out, "v1: an address is not one of the protocol's family");
    if (!v1_port(f[3], n[3], &out->src_port) || !v1_port(f[4], n[4], &out->dst_port))
        return bad(out, "v1: a port is not 0-65535 in plain decimal");
    return CHD_PROXY_DONE;
}

/* Where the CRLF ending the line is: its offset, 0 while none has come
 * yet (MORE), -1 when the line can no longer be valid. */
static long v1_line_end(const char *p, size_t len)
{
    for (size_t i = sizeof v1_sig; i < len && i < CHD_PROXY_V1_MAX; i++) {
        if (p[i] == '\n')
            return -1; /* a bare LF */
        if (p[i] != '\r')
            continue;
        if (i + 1 >= CHD_PROXY_V1_MAX)
            return -1; /* the LF would be byte 108 */
        if (i + 1 == len)
            return 0;
        return p[i + 1] == '\n' ? (long)i : -1;
    }
    return len >= CHD_PROXY_V1_MAX ? -1 : 0;
}

static chd_proxy_verdict_t parse_v1(const char *p, size_t len, chd_proxy_header_t *out)
{
    long crlf = v1_line_end(p, len);
    if (crlf < 0)
        return bad(out, "v1: no CRLF within 107 bytes, or a stray CR or LF");
    if (crlf == 0)
        return CHD_PROXY_MORE;
    out->length = (size_t)crlf + 2;
    const char *s = p + sizeof v1_sig, *end = p + crlf;
    size_t rest = (size_t)(end - s);
    if (rest >= 7 && memcmp(s, "UNKNOWN", 7) == 0 && (rest == 7 || s[7] == ' ')) {
        out->family = AF_UNSPEC; /* what follows UNKNOWN is ignored */
        return CHD_PROXY_DONE;
    }
    return v1_fields(s, end, out);
}

/* --- v2 ------------------------------------------------------------------ */

/* The TLVs after the address block: each a type byte, a big-endian
 * length and that many bytes, ending exactly where the header does. */
static bool v2_tlvs_fit(const unsigned char *p, size_t len)
{
    while (len > 0) {
        if (len < 3)
            return false;
        size_t vlen = (size_t)p[1] << 8 | p[2];
        if (vlen > len - 3)
            return false;
        p += 3 + vlen;
        len -= 3 + vlen;
    }
    return true;
}

static uint16_t be16(const unsigned char *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* The address block of PROXY (body: the bytes after the fixed part). */
static chd_proxy_verdict_t v2_addresses(unsigned char fam, const unsigned char *body,
                                        size_t blen, chd_proxy_header_t *out)
{
    size_t need;
    switch (fam) {
    case 0x00: /* UNSPEC: the proxy does not say; everything is skipped */
        out->family = AF_UNSPEC;
        return CHD_PROXY_DONE;
    case 0x11: /* TCP over IPv4 */
        need = 12;
        break;
    case 0x21: /* TCP over IPv6 */
        need = 36;
        break;
    case 0x31: /* UNIX stream: no address to use */
        need = 216;
        break;
    default:
        return bad(out, "v2: family/transport is not TCP4, TCP6, UNIX stream or UNSPEC");
    }
    if (blen < need)
        return bad(out, "v2: length shorter than the address block");
    if (!v2_tlvs_fit(body + need, blen - need))
        return bad(out, "v2: TLVs do not fill the header exactly");
    if (fam == 0x31) {
        out->family = AF_UNSPEC;
        return CHD_PROXY_DONE;
    }
    size_t alen = fam == 0x11 ? 4 : 16;
    out->family = fam == 0x11 ? AF_INET : AF_INET6;
    memcpy(out->src, body, alen);
    memcpy(out->dst, body + alen, alen);
    out->src_port = be16(body + 2 * alen);
    out->dst_port = be16(body + 2 * alen + 2);
    return CHD_PROXY_DONE;
}

static chd_proxy_verdict_t parse_v2(const unsigned char *p, size_t len, chd_proxy_header_t *out)
{
    if (len < 16)
        return CHD_PROXY_MORE;
    unsigned char version = p[12] >> 4, command = p[12] & 0x0F;
    if (version != 2)
        return bad(out, "v2: version is not 2");
    if (command > 1)
        return bad(out, "v2: command is not LOCAL or PROXY");
    size_t blen = be16(p + 14);
    if (blen > CHD_PROXY_V2_MAX_BODY)
        return bad(out, "v2: more than 4096 bytes after the fixed part");
    if (len < 16 + blen)
        return CHD_PROXY_MORE;
    out->length = 16 + blen;
    if (command == 0) { /* LOCAL: the block, family included, is ignored */
        out->local = true;
        out->family = AF_UNSPEC;
        return CHD_PROXY_DONE;
    }
    return v2_addresses(p[13], p + 16, blen, out);
}

chd_proxy_verdict_t chd_proxy_parse(const void *data, size_t len, chd_proxy_header_t *out)
{
    memset(out, 0, sizeof *out);
    switch (chd_proxy_detect(data, len)) {
    case CHD_PROXY_DETECT_MORE:
        return CHD_PROXY_MORE;
    case CHD_PROXY_DETECT_V1:
        return parse_v1(data, len, out);
    case CHD_PROXY_DETECT_V2:
        return parse_v2(data, len, out);
    default:
        return bad(out, "it starts with neither \"PROXY \" nor the v2 signature");
    }
}
