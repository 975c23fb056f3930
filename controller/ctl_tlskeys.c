/* ctl_tlskeys: see ctl_tlskeys.h. */
#include "ctl_tlskeys.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

int ctl_tlskeys_rotate(ctl_tlskeys_t *k)
{
    uint8_t fresh[CTL_TLSKEYS_BYTES];
    size_t got = 0;
    while (got < sizeof fresh) {
        ssize_t n = getrandom(fresh + got, sizeof fresh - got, 0);
        if (n < 0 && errno != EINTR)
            return -errno;
        if (n > 0)
            got += (size_t)n;
    }
    memmove(k->keys[1], k->keys[0], (CTL_TLSKEYS_KEPT - 1) * CTL_TLSKEYS_BYTES);
    memcpy(k->keys[0], fresh, CTL_TLSKEYS_BYTES);
    if (k->n < CTL_TLSKEYS_KEPT)
        k->n++;
    explicit_bzero(fresh, sizeof fresh);
    return 0;
}

json_t *ctl_tlskeys_json(const ctl_tlskeys_t *k)
{
    static const char digits[] = "0123456789abcdef";
    char hex[CTL_TLSKEYS_KEPT * CTL_TLSKEYS_BYTES * 2 + 1];
    size_t o = 0;
    for (int i = 0; i < k->n; i++) {
        for (int b = 0; b < CTL_TLSKEYS_BYTES; b++) {
            hex[o++] = digits[k->keys[i][b] >> 4];
            hex[o++] = digits[k->keys[i][b] & 15];
        }
    }
    hex[o] = '\0';
    json_t *s = json_string(hex);
    explicit_bzero(hex, sizeof hex);
    return s;
}

void ctl_tlskeys_clear(ctl_tlskeys_t *k)
{
    explicit_bzero(k, sizeof *k);
}
