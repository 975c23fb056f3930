/* chd_forwarded: trusting a proxy's word about the client.
 *
 * When the peer is in --forwarded-allow-ips, the client address and scheme
 * come from the proxy's headers: `Forwarded` (RFC 7239; the last element's
 * for= and proto=) or else `X-Forwarded-For` (its last entry: the address
 * the trusted proxy itself saw) and `X-Forwarded-Proto`. From any other
 * peer these headers are only passed to the app as HTTP_* and change
 * nothing. Who is trusted is a cmn_iplist_t. Plain C, no Python. */
#ifndef CHD_FORWARDED_H
#define CHD_FORWARDED_H

#include "chd_request.h"

#include <stddef.h>

/* What the proxy says: client address (empty when it says nothing usable)
 * and scheme ("" when unsaid, else "http" or "https"). */
typedef struct {
    char addr[64];
    char scheme[8];
} chd_forwarded_t;

/* The client address alone, from a request's Forwarded and
 * X-Forwarded-For fields already found (NULL: absent): the same address
 * chd_forwarded_read gives, for a caller that looked the fields up with
 * others in one pass (the access log). The scheme is what Forwarded says,
 * else "". */
void chd_forwarded_client(const chd_request_t *req, const chd_header_t *forwarded,
                          const chd_header_t *xff, chd_forwarded_t *out);

/* Reads the forwarding headers of a complete request head. */
void chd_forwarded_read(const chd_request_t *req, chd_forwarded_t *out);

#endif
