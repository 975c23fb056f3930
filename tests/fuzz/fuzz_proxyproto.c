/* libFuzzer target: the PROXY protocol header parser (chd_proxyproto).
 *
 * Whatever the bytes, parsing must not crash or trip a sanitizer, and the
 * verdict must be one a connection can rely on when the header arrives in
 * pieces: MORE only while a header could still fit; DONE names a length
 * within the input and the bound, gives the same answer on exactly those
 * bytes, and was MORE one byte earlier; a prefix of a BAD input is never
 * DONE. Seeds: tests/fuzz/proxyproto/. */
#include "chd_proxyproto.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static void check_done(const uint8_t *data, size_t size, const chd_proxy_header_t *h)
{
    chd_proxy_header_t again;
    if (h->length == 0 || h->length > size || h->length > CHD_PROXY_MAX_LEN)
        abort();
    if (chd_proxy_parse(data, h->length, &again) != CHD_PROXY_DONE || again.length != h->length ||
        again.family != h->family || again.src_port != h->src_port ||
        memcmp(again.src, h->src, sizeof h->src) != 0)
        abort();
    if (chd_proxy_parse(data, h->length - 1, &again) != CHD_PROXY_MORE)
        abort();
    char text[INET6_ADDRSTRLEN];
    if (h->family != AF_UNSPEC && !inet_ntop(h->family, h->src, text, sizeof text))
        abort();
    if (h->family != AF_INET && h->family != AF_INET6 && h->family != AF_UNSPEC)
        abort();
    if (h->local && h->family != AF_UNSPEC)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    chd_proxy_header_t h, prefix;
    switch (chd_proxy_parse(data, size, &h)) {
    case CHD_PROXY_DONE:
        check_done(data, size, &h);
        break;
    case CHD_PROXY_MORE:
        if (size >= CHD_PROXY_MAX_LEN)
            abort();
        break;
    case CHD_PROXY_BAD:
        if (!h.why)
            abort();
        if (size > 0 && chd_proxy_parse(data, size - 1, &prefix) == CHD_PROXY_DONE)
            abort(); /* a DONE header cannot turn BAD with a byte more */
        break;
    default:
        abort();
    }
    /* Detection agrees with parsing on what is no header at all. */
    if (chd_proxy_detect(data, size) == CHD_PROXY_DETECT_NONE && chd_proxy_parse(data, size, &h) != CHD_PROXY_BAD)
        abort();
    return 0;
}
