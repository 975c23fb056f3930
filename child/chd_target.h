/* chd_target: the request-target's form and the authority syntax.
 *
 * RFC 9112 3.2 gives a request-target four forms; which one is allowed
 * depends on the method, and the absolute-form's authority replaces Host
 * (3.2.2). This module only reads bytes the strict head check already let
 * through (visible ASCII and bytes >= 0x80): it sorts the target into its
 * form, validates the authority (absolute-form, authority-form, the Host
 * field) and says where its host and port are. Plain C, no allocation, no
 * GIL; the request parser calls it once per request, after the head. */
#ifndef CHD_TARGET_H
#define CHD_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    CHD_TARGET_ORIGIN,    /* "/" path ["?" query] */
    CHD_TARGET_ABSOLUTE,  /* scheme "://" authority path-abempty ["?" query] */
    CHD_TARGET_AUTHORITY, /* host ":" port (CONNECT only) */
    CHD_TARGET_ASTERISK,  /* "*" (OPTIONS only) */
} chd_target_form_t;

/* Where an authority's parts are, as offsets into the target. */
typedef struct {
    chd_target_form_t form;
    uint16_t scheme_len;   /* absolute-form: bytes of the scheme, without "://" */
    uint32_t host_off;     /* absolute- and authority-form: the host ("[v6]" with brackets) */
    uint32_t host_len;
    uint32_t authority_len; /* host plus ":" port if any; starts at host_off */
    int32_t port;          /* the port given, or -1 */
} chd_target_t;

/* Checks `len` bytes as an authority: uri-host [":" port] (RFC 3986
 * 3.2.2, 3.2.3), where uri-host is "[" IPv6address "]" or a non-empty
 * reg-name (unreserved, sub-delims, pct-encoded; an IPv4address is one).
 * Deliberately stricter than the ABNF: no IPvFuture, no userinfo (RFC 9110
 * 4.2.4 asks to treat it as an error), and a port that is present is 1 to 5
 * digits up to 65535. On success stores the host's length and the port
 * (-1 when absent) and returns 0; -EINVAL otherwise. */
int chd_authority_parse(const char *s, size_t len, uint32_t *host_len, int32_t *port);

/* Sorts a request-target into its form and, for the absolute- and
 * authority-forms, validates the authority (see chd_authority_parse) and
 * fills t. A target that fits none of the forms (an absolute-form with a
 * scheme other than letters, with no "//" authority or with a bad one;
 * anything else not starting with "/") gives -EINVAL. Whether the form is
 * allowed with the method is the caller's rule (chd_target_allowed). */
int chd_target_parse(const char *url, size_t len, chd_target_t *t);

/* RFC 9112 3.2: authority-form only with CONNECT, where it is the only
 * form allowed; asterisk-form only with OPTIONS. */
bool chd_target_allowed(chd_target_form_t form, bool is_connect, bool is_options);

#endif
