/* chd_proxyproto: the PROXY protocol header (HAProxy's, versions 1 and 2)
 * that a TCP proxy or load balancer sends before the client's bytes, to
 * say who the client is.
 *
 * Pure bytes in, verdict out: no I/O, no allocation, no state between
 * calls. The caller keeps the bytes received so far and asks again with
 * all of them when more arrive (a header is at most CHD_PROXY_MAX_LEN
 * bytes, so parsing it again is cheap). Both versions are recognised by
 * their first bytes.
 *
 * v1 (text): "PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n", or "PROXY UNKNOWN"
 * with anything up to the CRLF; at most 107 bytes with the CRLF. Single
 * spaces, addresses that inet_pton accepts for the family (so no leading
 * zeros in IPv4), ports 0-65535 in decimal without a sign or a leading 0.
 *
 * v2 (binary): the 12-byte signature, version 2 with command LOCAL or
 * PROXY, the family/transport byte, a big-endian length, then that many
 * bytes: the address block, then TLVs, which are skipped but must exactly
 * fill the rest. PROXY with TCP over IPv4 or IPv6 names the client; with
 * UNSPEC or a UNIX stream socket it names nobody (the connection's own
 * peer stays); LOCAL is the proxy's own connection (a health check). Any
 * other command, version, family or transport is refused. The length may
 * be at most CHD_PROXY_V2_MAX_BODY (the protocol allows 65535; an address
 * block and the usual TLVs take a few hundred bytes, and a bound keeps a
 * connection from holding 64 KiB before it has said anything). */
#ifndef CHD_PROXYPROTO_H
#define CHD_PROXYPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CHD_PROXY_V1_MAX 107      /* the longest v1 line, CRLF included */
#define CHD_PROXY_V2_MAX_BODY 4096 /* most bytes after v2's 16-byte fixed part */
#define CHD_PROXY_MAX_LEN (16 + CHD_PROXY_V2_MAX_BODY)

typedef enum {
    CHD_PROXY_DETECT_MORE, /* the bytes so far are a prefix of a signature */
    CHD_PROXY_DETECT_V1,   /* starts with "PROXY " */
    CHD_PROXY_DETECT_V2,   /* starts with v2's 12-byte signature */
    CHD_PROXY_DETECT_NONE, /* not a PROXY header (plain HTTP, say) */
} chd_proxy_detect_t;

typedef enum {
    CHD_PROXY_MORE, /* a valid beginning: call again with more bytes */
    CHD_PROXY_DONE, /* a complete, valid header: see chd_proxy_header_t */
    CHD_PROXY_BAD,  /* not a valid header: the connection must be closed */
} chd_proxy_verdict_t;

typedef struct {
    size_t length; /* DONE: bytes the header takes (what follows is the client's) */
    /* DONE: AF_INET or AF_INET6 when the header names the client (the
     * addresses and ports below, network byte order for the addresses,
     * host order for the ports); AF_UNSPEC when it names nobody: v1
     * UNKNOWN, v2 LOCAL, v2 PROXY over UNSPEC or a UNIX socket. */
    int family;
    bool local; /* DONE: v2 LOCAL, the proxy's own connection */
    unsigned char src[16], dst[16];
    uint16_t src_port, dst_port;
    const char *why; /* BAD: a short reason, for the log (static text) */
} chd_proxy_header_t;

/* Which version, if any, the first len bytes of a connection start. */
chd_proxy_detect_t chd_proxy_detect(const void *data, size_t len);

/* Parses the header at the start of data[0, len). MORE when it is a valid
 * but incomplete beginning (never once len >= CHD_PROXY_MAX_LEN); DONE
 * with *out filled (bytes after out->length are not looked at); BAD with
 * out->why set, including when the bytes are no PROXY header at all. */
chd_proxy_verdict_t chd_proxy_parse(const void *data, size_t len, chd_proxy_header_t *out);

#endif
