/* chd_logfields: the request header fields an access log line shows,
 * found in one pass over the request's head.
 *
 * The default format alone shows Referer and User-Agent and, behind a
 * trusted proxy, reads Forwarded and X-Forwarded-For: a search per field
 * (chd_request_find_header) walks the headers once per field. Here the
 * names are listed once, when the log starts (chd_logfields_add), and each
 * line finds all of them in one walk (chd_logfields_find), comparing a
 * field name with a listed one eight bytes at a time. What is found is the
 * same: the first field of each name, case-insensitively in ASCII.
 *
 * Plain C, no allocation, no lock: a set is written while the log starts
 * and only read afterwards, from any thread. */
#ifndef CHD_LOGFIELDS_H
#define CHD_LOGFIELDS_H

#include "chd_request.h"

#include <stddef.h>
#include <stdint.h>

#define CHD_LOGFIELDS_MAX 16       /* names a set holds */
#define CHD_LOGFIELDS_NAME_MAX 64  /* longest name a set holds */

typedef struct {
    const char *name; /* borrowed: as the caller will ask for it */
    size_t len;
    char lower[CHD_LOGFIELDS_NAME_MAX]; /* the name in lower case */
    /* 0x20 where the name has a letter, else 0: OR-ed into a field name's
     * byte it lowers that letter and changes no other byte. */
    char fold[CHD_LOGFIELDS_NAME_MAX];
} chd_logfield_t;

typedef struct {
    chd_logfield_t names[CHD_LOGFIELDS_MAX];
    int count;
    /* Bit (len % 64) set for each name's length: most of a request's
     * fields are passed over on this one test. */
    uint64_t lengths;
} chd_logfields_t;

/* What one request has of a set: found[i] is the first field named
 * set->names[i].name, or NULL. */
typedef struct {
    const chd_header_t *found[CHD_LOGFIELDS_MAX];
} chd_logfields_found_t;

/* An empty set: count 0 (a zeroed set is empty too). */
static inline void chd_logfields_clear(chd_logfields_t *set)
{
    set->count = 0;
    set->lengths = 0;
}

/* Lists `name` (borrowed, NUL-terminated; the caller keeps it alive while
 * the set is used). Returns its slot (0, 1, ... in the order added), or -1
 * when the set is full or the name longer than CHD_LOGFIELDS_NAME_MAX: such
 * a name is not found by chd_logfields_find (search for it instead). */
int chd_logfields_add(chd_logfields_t *set, const char *name);

/* The slot of a name added with this very pointer (not compared as text),
 * or -1. */
int chd_logfields_slot(const chd_logfields_t *set, const char *name);

/* Finds every listed name among req's header fields in one pass. */
void chd_logfields_find(const chd_logfields_t *set, const chd_request_t *req,
                        chd_logfields_found_t *out);

#endif
