/* ctl_tlskeys: the session ticket keys every child shares.
 *
 * With TLS, a client that comes back presents a session ticket instead of
 * making a full handshake. The ticket is encrypted with a key the server
 * chooses; for a ticket from one child to be honoured by another (and by
 * the children of the next reload), the keys come from here: random keys
 * made by the controller, rotated every CTL_TLSKEYS_ROTATE seconds, the
 * newest first (it encrypts new tickets) and the previous ones kept for
 * decrypting (so a ticket lives two to three rotations). The keys travel to
 * the children in their config message and, on each rotation, in a
 * CMN_MSG_TLS_KEYS message; they are never written anywhere else. Each key
 * is the 80 bytes child/chd_tls.h takes (name, AES key, HMAC key), sent as
 * hex. Controller thread only. */
#ifndef CTL_TLSKEYS_H
#define CTL_TLSKEYS_H

#include <jansson.h>
#include <stdint.h>

#define CTL_TLSKEYS_BYTES 80       /* CHD_TLS_TICKET_KEY_BYTES */
#define CTL_TLSKEYS_KEPT 3         /* the current key and two before it */
#define CTL_TLSKEYS_ROTATE 3600.0  /* seconds between rotations */

typedef struct {
    uint8_t keys[CTL_TLSKEYS_KEPT][CTL_TLSKEYS_BYTES]; /* newest first */
    int n;
} ctl_tlskeys_t;

/* Makes a new key and puts it first (the oldest beyond CTL_TLSKEYS_KEPT is
 * forgotten). Returns 0, or -errno when the kernel has no randomness. */
int ctl_tlskeys_rotate(ctl_tlskeys_t *k);

/* The keys as one hex string, newest first (new reference). */
json_t *ctl_tlskeys_json(const ctl_tlskeys_t *k);

/* Wipes the keys. */
void ctl_tlskeys_clear(ctl_tlskeys_t *k);

#endif
