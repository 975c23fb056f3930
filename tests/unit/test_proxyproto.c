/* Unit tests for child/chd_proxyproto.h: PROXY protocol v1 and v2 headers,
 * whole, split at every byte, and malformed. */
#include "chd_proxyproto.h"
#include "unit.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#define HTTP "GET / HTTP/1.1\r\nHost: x\r\n\r\n"

/* Parses data[0, len) whole, and checks what a connection receiving it a
 * byte at a time would see: MORE for every shorter prefix until the
 * verdict, then the same verdict (and the same length) with every byte
 * more. Returns the verdict of the whole. */
static chd_proxy_verdict_t parse_split(const void *data, size_t len, chd_proxy_header_t *out)
{
    chd_proxy_verdict_t whole = chd_proxy_parse(data, len, out);
    chd_proxy_header_t h;
    bool decided = false;
    for (size_t k = 0; k <= len; k++) {
        chd_proxy_verdict_t v = chd_proxy_parse(data, k, &h);
        if (!decided && v == CHD_PROXY_MORE)
            continue;
        if (!decided) {
            decided = true;
            if (v == CHD_PROXY_DONE && h.length != k)
                unit_fail(__FILE__, __LINE__, "DONE at %zu bytes but length %zu", k, h.length);
        }
        if (v != whole || (v == CHD_PROXY_DONE && h.length != out->length)) {
            unit_fail(__FILE__, __LINE__, "prefix of %zu bytes: verdict %d, whole %d", k, v,
                      whole);
            break;
        }
    }
    return whole;
}

static chd_proxy_verdict_t parse_str(const char *s, chd_proxy_header_t *out)
{
    return parse_split(s, strlen(s), out);
}

static void check_addr(int family, const unsigned char *got, const char *want)
{
    unsigned char bin[16];
    CHECK(inet_pton(family, want, bin) == 1);
    CHECK(memcmp(got, bin, family == AF_INET ? 4 : 16) == 0);
}

/* ---- detection ----------------------------------------------------------- */

TEST(detect_by_first_bytes)
{
    CHECK_EQ_INT(chd_proxy_detect("", 0), CHD_PROXY_DETECT_MORE);
    CHECK_EQ_INT(chd_proxy_detect("P", 1), CHD_PROXY_DETECT_MORE);
    CHECK_EQ_INT(chd_proxy_detect("PROXY", 5), CHD_PROXY_DETECT_MORE);
    CHECK_EQ_INT(chd_proxy_detect("PROXY ", 6), CHD_PROXY_DETECT_V1);
    CHECK_EQ_INT(chd_proxy_detect("PROXY TCP4", 10), CHD_PROXY_DETECT_V1);
    CHECK_EQ_INT(chd_proxy_detect("\r\n\r\n", 4), CHD_PROXY_DETECT_MORE);
    CHECK_EQ_INT(chd_proxy_detect("\r\n\r\n\0\r\nQUIT\n", 12), CHD_PROXY_DETECT_V2);
    CHECK_EQ_INT(chd_proxy_detect("\r\n\r\n\0\r\nQUIT\r", 12), CHD_PROXY_DETECT_NONE);
    CHECK_EQ_INT(chd_proxy_detect("GET / HTTP/1.1", 14), CHD_PROXY_DETECT_NONE);
    CHECK_EQ_INT(chd_proxy_detect("POST", 4), CHD_PROXY_DETECT_NONE);
    CHECK_EQ_INT(chd_proxy_detect("PROXZ", 5), CHD_PROXY_DETECT_NONE);
    CHECK_EQ_INT(chd_proxy_detect("PROXY/", 6), CHD_PROXY_DETECT_NONE);
    CHECK_EQ_INT(chd_proxy_detect("\r\nGET", 5), CHD_PROXY_DETECT_NONE);
}

TEST(plain_http_is_no_header)
{
    chd_proxy_header_t h;
    CHECK_EQ_INT(parse_str(HTTP, &h), CHD_PROXY_BAD);
    CHECK_EQ_STR(h.why, "it starts with neither \"PROXY \" nor the v2 signature");
    CHECK_EQ_INT(parse_str("\r\n" HTTP, &h), CHD_PROXY_BAD);
}

/* ---- v1 ------------------------------------------------------------------ */

TEST(v1_tcp4)
{
#define TCP4_LINE "PROXY TCP4 192.0.2.1 198.51.100.22 56324 443\r\n"
    static const char hdr[] = TCP4_LINE;
    chd_proxy_header_t h;
    CHECK_EQ_INT(parse_str(TCP4_LINE HTTP, &h), CHD_PROXY_DONE);
    CHECK_EQ_INT(h.length, sizeof hdr - 1);
    CHECK_EQ_INT(h.family, AF_INET);
    CHECK(!h.local);
    check_addr(AF_INET, h.src, "192.0.2.1");
    check_addr(AF_INET, h.dst, "198.51.100.22");
    CHECK_EQ_INT(h.src_port, 56324);
    CHECK_EQ_INT(h.dst_port, 443);
}

TEST(v1_tcp6)
{
    static const char hdr[] = "PROXY TCP6 2001:DB8::1 ::1 0 65535\r\n";
    chd_proxy_header_t h;
    CHECK_EQ_INT(parse_str(hdr, &h), CHD_PROXY_DONE);
    CHECK_EQ_INT(h.length, sizeof hdr - 1);
    CHECK_EQ_INT(h.family, AF_INET6);
    check_addr(AF_INET6, h.src, "2001:db8::1");
    check_addr(AF_INET6, h.dst, "::1");
    CHECK_EQ_INT(h.src_port, 0);
    CHECK_EQ_INT(h.dst_port, 65535);
    CHECK_EQ_INT(parse_str("PROXY TCP6 ::ffff:192.0.2.1 ::1 1 2\r\n", &h), CHD_PROXY_DONE);
}

TEST(v1_longest_lines)
{
    static const char tcp6[] = "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
                               "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
    chd_proxy_header_t h;
    CHECK_EQ_INT(sizeof tcp6 - 1, 104);
    CHECK_EQ_INT(parse_str(tcp6, &h), CHD_PROXY_DONE);
    char line[200];
    /* UNKNOWN padded to exactly 107 bytes with the CRLF: the most allowed. */
    memset(line, 'x', sizeof line);
    memcpy(line, "PROXY UNKNOWN ", 14);
    memcpy(line + 105, "\r\n", 2);
    CHECK_EQ_INT(parse_split(line, 107, &h), CHD_PROXY_DONE);
    CHECK_EQ_INT(h.length, 107);
    /* One more byte before the CRLF: too long. */
    memset(line, 'x', sizeof line);
    memcpy(line, "PROXY UNKNOWN ", 14);
    memcpy(line + 106, "\r\n", 2);
    CHECK_EQ_INT(parse_split(line, 108, &h), CHD_PROXY_BAD);
    /* No CRLF at all: BAD once 107 bytes are in, not waiting forever. */
    CHECK_EQ_INT(chd_proxy_parse(line, 106, &h), CHD_PROXY_MORE);
    CHECK_EQ_INT(chd_proxy_parse(line, 107, &h), CHD_PROXY_BAD);
}

TEST(v1_unknown)
{
    chd_proxy_header_t h;
    CHECK_EQ_INT(parse_str("PROXY UNKNOWN\r\n" HTTP, &h), CHD_PROXY_DONE);
    CHECK_EQ_INT(h.length, 15);
    CHECK_EQ_INT(h.family, AF_UNSPEC);
    CHECK(!h.local);
    /* Whatever follows UNKNOWN up to the CRLF is ignored. */
    CHECK_EQ_INT(parse_str("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n", &h), CHD_PROXY_DONE);
    CHECK_EQ_INT(h.family, AF_UNSPEC);
    CHECK_EQ_INT(parse_str("PROXY UNKNOWNX\r\n", &h), CHD_PROXY_BAD);
    CHECK_EQ_INT(parse_str("PROXY UNKNOWN\t\r\n", &h), CHD_PROXY_BAD);
}

TEST(v1_field_syntax)
{
    static const char *const bad_lines[] = {
        "PROXY TCP4 192.0.2.1 198.51.100.22 56324 443\n",    /* bare LF */
        "PROXY TCP4 192.0.2.1 198.51.100.22 56324 443\rx",   /* CR without LF */
        "PROXY TCP4 192.0.2.1 198.51.100.22 56324 443\r\r\n",
        "PROXY TCP4  192.0.2.1 198.51.100.22 56324 443\r\n", /* two spaces */
        "PROXY TCP4 192.0.2.1 198.51.100.22 56324 443 \r\n", /* trailing space */
        "PROXY  TCP4 192.0.2.1 198.51.100.22 56324 443\r\n",
        "PROXY TCP4\t192.0.2.1 198.51.100.22 56324 443\r\n", /* a tab */
        "PROXY TCP4 192.0.2.1 198.51.100.22 56324\r\n",      /* a field missing */
        "PROXY TCP4 192.0.2.1 198.51.100.22 56324 443 1\r\n", /* one too many */
        "PROXY tcp4 192.0.2.1 198.51.100.22 56324 443\r\n",  /* case matters */
        "PROXY TCP5 192.0.2.1 198.51.100.22 56324 443\r\n",
        "PROXY UDP4 192.0.2.1 198.51.100.22 56324 443\r\n",
        "PROXY TCP4 2001:db8::1 ::1 56324 443\r\n",          /* wrong family */
        "PROXY TCP6 192.0.2.1 198.51.100.22 56324 443\r\n",
        "PROXY TCP4 192.0.2.01 198.51.100.22 56324 443\r\n", /* leading zero */
        "PROXY TCP4 192.0.2 198.51.100.22 56324 443\r\n",
        "PROXY TCP4 192.0.2.256 198.51.100.22 56324 443\r\n",
        "PROXY TCP4 localhost 198.51.100.22 56324 443\r\n",
        "PROXY TCP6 fe80::1%eth0 ::1 56324 443\r\n",         /* a zone */
        "PROXY TCP4 192.0.2.1 198.51.100.22 +80 443\r\n",    /* signs */
        "PROXY TCP4 192.0.2.1 198.51.100.22 -1 443\r\n",
        "PROXY TCP4 192.0.2.1 198.51.100.22 080 443\r\n",    /* leading zero */
        "PROXY TCP4 192.0.2.1 198.51.100.22 00 443\r\n",
        "PROXY TCP4 192.0.2.1 198.51.100.22 65536 443\r\n",  /* out of range */
        "PROXY TCP4 192.0.2.1 198.51.100.22 123456 443\r\n",
        "PROXY TCP4 192.0.2.1 198.51.100.22 8a 443\r\n",
        "PROXY TCP4 192.0.2.1 198.51.100.22 56324 0x1bb\r\n",
        "PROXY \r\n",
        "PROXY TCP4\r\n",
        "PROXY TCP4 \r\n",
    };
    chd_proxy_header_t h;
    for (size_t i = 0; i < sizeof bad_lines / sizeof bad_lines[0]; i++) {
        if (parse_str(bad_lines[i], &h) != CHD_PROXY_BAD)
            unit_fail(__FILE__, __LINE__, "accepted: %s", bad_lines[i]);
        else
            CHECK(h.why != NULL);
    }
}

TEST(v1_nul_inside_a_field)
{
    static const char line[] = "PROXY TCP4 192.0.2.1\0x 198.51.100.22 56324 443\r\n";
    chd_proxy_header_t h;
    CHECK_EQ_INT(parse_split(line, sizeof line - 1, &h), CHD_PROXY_BAD);
    static const char port[] = "PROXY TCP4 192.0.2.1 198.51.100.22 56\0 443\r\n";
    CHECK_EQ_INT(parse_split(port, sizeof port - 1, &h), CHD_PROXY_BAD);
}

TEST(v1_error_seen_before_the_crlf)
{
    chd_proxy_header_t h;
    /* A bare LF decides at once; the connection need not wait for more. */
    CHECK_EQ_INT(chd_proxy_parse("PROXY TCP4 1.2.3.4\n", 19, &h), CHD_PROXY_BAD);
    CHECK_EQ_INT(chd_proxy_parse("PROXY TCP4 1.2.3.4\r", 19, &h), CHD_PROXY_MORE);
}

/* ---- v2 ------------------------------------------------------------------ */

static const unsigned char sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                      0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

/* Writes a v2 header: signature, ver_cmd, fam, the length blen, and body
 * (blen bytes; NULL: zeros). Returns its size. */
static size_t v2(unsigned char *out, unsigned char ver_cmd, unsigned char fam,
                 const void *body, size_t blen)
{
    memcpy(out, sig, 12);
    out[12] = ver_cmd;
    out[13] = fam;
    out[14] = (unsigned char)(blen >> 8);
    out[15] = (unsigned char)blen;
    if (body)
        memcpy(out + 16, body, blen);
    else
        memset(out + 16, 0, blen);
    return 16 + blen;
}

static const unsigned char tcp4_block[12] = {192, 0, 2, 1, 198, 51, 100, 22, 0xDC, 0x04, 0x01, 0xBB};

TEST(v2_tcp4)
{
    unsigned char buf[128];
    size_t n = v2(buf, 0x21, 0x11, tcp4_block, sizeof tcp4_block);
    memcpy(buf + n, HTTP, sizeof HTTP - 1);
    chd_proxy_header_t h;
    CHECK_EQ_INT(parse_split(buf, n + sizeof HTTP - 1, &h), CHD_PROXY_DONE);
    CHECK_EQ_INT(h.length, 28);
    CHECK_EQ_INT(h.family, AF_INET);
    CHECK(!h.local);
    check_addr(AF_INET, h.src, "192.0.2.1");
    check_addr(AF_INET, h.dst, "198.51.100.22");
    CHECK_EQ_INT(h.src_port, 56324);
    CHECK_EQ_INT(h.dst_port, 443);
}

TEST(v2_tcp6)
{
    unsigned char block[36], buf[128];
    inet_pton(AF_INET6, "2001:db8::7", block);
    inet_pton(AF_INET6, "::1", block + 16);
    memcpy(block + 32, "\xff\xff\x00\x50", 4);
    size_t n = v2(buf, 0x21, 0x21, block, sizeof block);
    chd_proxy_header_t h;
    CHECK_EQ_INT(parse_split(buf, n, &h), CHD_PROXY_DONE);
    CHECK_EQ_INT(h.length, 52);
    CHECK_EQ_INT(h.family, AF_INET6);
    check_addr(AF_INET6, h.src, "2001:db8::7");
    check_addr(AF_INET6, h.dst, "::1");
    CHECK_EQ_INT(h.src_port, 65535);
    CHECK_EQ_INT(h.dst_port, 80);
}

TEST(v2_tlvs_are_skipped)
{
    unsigned char block[12 + 3 + 5 + 3 + 0 + 3 + 2], buf[128];
    memcpy(block, tcp4_block, 12);
    memcpy(block + 12, "\x01\x00\x05" "abcde", 8); /* ALPN, 5 bytes */
    memcpy(block + 20, "\x04\x00\x00", 3);         /* NOOP, empty */
    memcpy(block + 23, "\xEA\x00\x02" "xy", 5);    /* a vendor's */
    size_t n = v2(buf, 0x21, 0x11, block, sizeof block);
    chd_proxy_header_t h;
    CHECK_EQ_INT(parse_split(buf, n, &h), CHD_PROXY_DONE);
    CHECK_EQ_INT(h.length, 16 + sizeof block);
    check_addr(AF_INET, h.src, "192.0.2.1");
}

TEST(v2_local_keeps_the_peer)
{
    unsigned char buf[128];
    chd_proxy_header_t h;
    size_t n = v2(buf, 0x20, 0x00, NULL, 0);
    CHECK_EQ_INT(parse_split(buf, n, &h), CHD_PROXY_DONE);
    CHECK_EQ_INT(h.length, 16);
    CHECK(h.local);
    CHECK_EQ_INT(h.family, AF_UNSPEC);
    /* LOCAL ignores the block, family and all, even one that PROXY refuses. */
    n = v2(buf, 0x20, 0x12, "junk", 4);
    CHECK_EQ_INT(parse_split(buf, n, &h), CHD_PROXY_DONE);
    CHECK_EQ_INT(h.length, 20);
    CHECK(h.local);
    CHECK_EQ_INT(h.family, AF_UNSPEC);
}

TEST(v2_unspec_and_unix_keep_the_peer)
{
    unsigned char buf[300];
    chd_proxy_header_t h;
    size_t n = v2(buf, 0x21, 0x00, NULL, 0);
    CHECK_EQ_INT(parse_split(buf, n, &h), CHD_PROXY_DONE);
    CHECK_EQ_INT(h.family, AF_UNSPEC);
    CHECK(!h.local);
    n = v2(buf, 0x21, 0x00, "anything", 8); /* UNSPEC: the rest is skipped */
    CHECK_EQ_INT(parse_split(buf, n, &h), CHD_PROXY_DONE);
    CHECK_EQ_INT(h.length, 24);
    n = v2(buf, 0x21, 0x31, NULL, 216);
    CHECK_EQ_INT(parse_split(buf, n, &h), CHD_PROXY_DONE);
    CHECK_EQ_INT(h.length, 232);
    CHECK_EQ_INT(h.family, AF_UNSPEC);
    n = v2(buf, 0x21, 0x31, NULL, 215);
    CHECK_EQ_INT(parse_split(buf, n, &h), CHD_PROXY_BAD);
}

TEST(v2_bad_version_command_family)
{
    static const unsigned char ver_cmd[] = {0x11, 0x31, 0x01, 0xF1, 0x22, 0x2F};
    static const unsigned char fam[] = {0x12, 0x22, 0x32, 0x10, 0x20, 0x30, 0x13, 0x41, 0x01, 0xFF};
    unsigned char buf[300];
    chd_proxy_header_t h;
    for (size_t i = 0; i < sizeof ver_cmd; i++) {
        size_t n = v2(buf, ver_cmd[i], 0x11, tcp4_block, 12);
        if (parse_split(buf, n, &h) != CHD_PROXY_BAD)
            unit_fail(__FILE__, __LINE__, "ver_cmd 0x%02x accepted", ver_cmd[i]);
        /* Refused as soon as the fixed part is in. */
        CHECK_EQ_INT(chd_proxy_parse(buf, 16, &h), CHD_PROXY_BAD);
    }
    for (size_t i = 0; i < sizeof fam; i++) {
        size_t n = v2(buf, 0x21, fam[i], NULL, 216);
        if (parse_split(buf, n, &h) != CHD_PROXY_BAD)
            unit_fail(__FILE__, __LINE__, "family 0x%02x accepted", fam[i]);
    }
}

TEST(v2_lengths)
{
    static unsigned char buf[16 + 8192];
    chd_proxy_header_t h;
    /* Shorter than the address block. */
    size_t n = v2(buf, 0x21, 0x11, tcp4_block, 11);
    CHECK_EQ_INT(parse_split(buf, n, &h), CHD_PROXY_BAD);
    n = v2(buf, 0x21, 0x21, NULL, 35);
    CHECK_EQ_INT(parse_split(buf, n, &h), CHD_PROXY_BAD);
    /* TLVs that do not fill the rest exactly. */
    unsigned char block[20];
    memcpy(block, tcp4_block, 12);
    memcpy(block + 12, "\x01\x00\x05" "ab", 5); /* says 5, has 2 */
    n = v2(buf, 0x21, 0x11, block, 17);
    CHECK_EQ_INT(parse_split(buf, n, &h), CHD_PROXY_BAD);
    n = v2(buf, 0x21, 0x11, block, 14); /* a TLV's own header cut short */
    CHECK_EQ_INT(parse_split(buf, n, &h), CHD_PROXY_BAD);
    /* The bound: 4096 bytes after the fixed part is allowed ... */
    memset(buf, 0, sizeof buf);
    n = v2(buf, 0x21, 0x11, tcp4_block, 12);
    buf[14] = 4096 >> 8;
    buf[15] = 0;
    buf[28] = 0x04;              /* one NOOP TLV fills the rest: */
    buf[29] = (4096 - 15) >> 8;  /* 4096 - 12 - 3 bytes */
    buf[30] = (4096 - 15) & 0xFF;
    CHECK_EQ_INT(chd_proxy_parse(buf, 16 + 4095, &h), CHD_PROXY_MORE);
    CHECK_EQ_INT(parse_split(buf, 16 + 4096, &h), CHD_PROXY_DONE);
    CHECK_EQ_INT(h.length, CHD_PROXY_MAX_LEN);
    /* ... one more is refused at once, without waiting for the bytes. */
    buf[14] = 4097 >> 8;
    buf[15] = 4097 & 0xFF;
    CHECK_EQ_INT(chd_proxy_parse(buf, 16, &h), CHD_PROXY_BAD);
    buf[14] = 0xFF;
    buf[15] = 0xFF;
    CHECK_EQ_INT(chd_proxy_parse(buf, 16, &h), CHD_PROXY_BAD);
}

TEST(v2_broken_signature)
{
    unsigned char buf[64];
    chd_proxy_header_t h;
    for (size_t i = 0; i < 12; i++) {
        size_t n = v2(buf, 0x21, 0x11, tcp4_block, 12);
        buf[i] ^= 0x20;
        if (parse_split(buf, n, &h) != CHD_PROXY_BAD)
            unit_fail(__FILE__, __LINE__, "signature byte %zu changed, accepted", i);
    }
}

TEST(never_more_past_the_longest_header)
{
    static unsigned char buf[CHD_PROXY_MAX_LEN + 1];
    chd_proxy_header_t h;
    memset(buf, 'x', sizeof buf);
    memcpy(buf, "PROXY ", 6);
    CHECK(chd_proxy_parse(buf, sizeof buf, &h) != CHD_PROXY_MORE);
    v2(buf, 0x21, 0x11, NULL, 12);
    buf[14] = 0x10; /* 4096 */
    buf[15] = 0x00;
    CHECK(chd_proxy_parse(buf, sizeof buf, &h) != CHD_PROXY_MORE);
}

int main(int argc, char **argv)
{
    unit_init(argc, argv);
    RUN(detect_by_first_bytes);
    RUN(plain_http_is_no_header);
    RUN(v1_tcp4);
    RUN(v1_tcp6);
    RUN(v1_longest_lines);
    RUN(v1_unknown);
    RUN(v1_field_syntax);
    RUN(v1_nul_inside_a_field);
    RUN(v1_error_seen_before_the_crlf);
    RUN(v2_tcp4);
    RUN(v2_tcp6);
    RUN(v2_tlvs_are_skipped);
    RUN(v2_local_keeps_the_peer);
    RUN(v2_unspec_and_unix_keep_the_peer);
    RUN(v2_bad_version_command_family);
    RUN(v2_lengths);
    RUN(v2_broken_signature);
    RUN(never_more_past_the_longest_header);
    return unit_finish();
}
