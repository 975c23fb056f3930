/* chd_logfields: see chd_logfields.h. */
#include "chd_logfields.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

int chd_logfields_add(chd_logfields_t *set, const char *name)
{
    size_t len = strlen(name);
    if (set->count == CHD_LOGFIELDS_MAX || len > CHD_LOGFIELDS_NAME_MAX)
        return -1;
    chd_logfield_t *f = &set->names[set->count];
    memset(f, 0, sizeof *f);
    f->name = name;
    f->len = len;
    set->lengths |= 1ull << (len % 64);
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
        f->fold[i] = letter ? 0x20 : 0;
        f->lower[i] = (char)(c | f->fold[i]);
    }
    return set->count++;
}

int chd_logfields_slot(const chd_logfields_t *set, const char *name)
{
    for (int i = 0; i < set->count; i++)
        if (set->names[i].name == name)
            return i;
    return -1;
}

static inline uint64_t load_word(const char *s)
{
    uint64_t w;
    memcpy(&w, s, 8);
    return w;
}

/* Whether s (f->len bytes) is f's name in any case: byte by byte below 8
 * bytes, else a word at a time, the last word overlapping its
 * predecessor. */
static bool is_named(const char *s, const chd_logfield_t *f)
{
    size_t n = f->len;
    if (n < 8) {
        for (size_t i = 0; i < n; i++)
            if ((s[i] | f->fold[i]) != f->lower[i])
                return false;
        return true;
    }
    for (size_t i = 0; i + 8 < n; i += 8)
        if ((load_word(s + i) | load_word(f->fold + i)) != load_word(f->lower + i))
            return false;
    return (load_word(s + n - 8) | load_word(f->fold + n - 8)) == load_word(f->lower + n - 8);
}

void chd_logfields_find(const chd_logfields_t *set, const chd_request_t *req,
                        chd_logfields_found_t *out)
{
    for (int k = 0; k < set->count; k++)
        out->found[k] = NULL;
    for (int i = 0; i < req->nheaders; i++) {
        const chd_header_t *h = &req->headers[i];
        if (!(set->lengths >> (h->name_len % 64) & 1))
            continue; /* no listed name is this long */
        for (int k = 0; k < set->count; k++) {
            const chd_logfield_t *f = &set->names[k];
            if (h->name_len == f->len && !out->found[k] && is_named(chd_header_name(req, h), f))
                out->found[k] = h;
        }
    }
}
