/* chd_stackdump: see chd_stackdump.h. */
#include "chd_stackdump.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *start;
    size_t len;
} line_t;

/* The next line of [*p, end) without its '\n'; advances *p past it. */
static line_t next_line(const char **p, const char *end)
{
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    line_t l = {*p, (size_t)((nl ? nl : end) - *p)};
    *p = nl ? nl + 1 : end;
    return l;
}

static bool starts_with(line_t l, const char *prefix)
{
    size_t n = strlen(prefix);
    return l.len >= n && memcmp(l.start, prefix, n) == 0;
}

/* A section header ("Thread 0x..." or "Current thread 0x..."): true, with
 * the thread's ident in *ident. */
static bool read_header(line_t l, unsigned long *ident)
{
    size_t skip;
    if (starts_with(l, "Thread 0x"))
        skip = strlen("Thread 0x");
    else if (starts_with(l, "Current thread 0x"))
        skip = strlen("Current thread 0x");
    else
        return false;
    char hex[32];
    size_t n = 0;
    while (skip + n < l.len && n < sizeof hex - 1 && strchr("0123456789abcdefABCDEF", l.start[skip + n]))
        n++;
    memcpy(hex, l.start + skip, n);
    hex[n] = '\0';
    *ident = strtoul(hex, NULL, 16);
    return n > 0;
}

/* Where ` in ` follows `", line DIGITS` in a frame line, or NULL. */
static const char *function_separator(line_t l)
{
    static const char mark[] = "\", line ";
    const char *end = l.start + l.len;
    for (const char *p = end - (sizeof mark - 1); p >= l.start; p--) {
        if (memcmp(p, mark, sizeof mark - 1) != 0)
            continue;
        const char *d = p + sizeof mark - 1;
        const char *digits = d;
        while (d < end && *d >= '0' && *d <= '9')
            d++;
        if (d > digits && end - d >= 4 && memcmp(d, " in ", 4) == 0)
            return d;
        return NULL;
    }
    return NULL;
}

/* Appends one frame as a traceback line; false when it does not fit. */
static bool append_frame(line_t l, char *out, size_t cap, size_t *used)
{
    const char *sep = function_separator(l);
    size_t head = sep ? (size_t)(sep - l.start) : l.len;
    size_t need = l.len + (sep ? 1 : 0) + 1;
    if (*used + need + 1 > cap)
        return false;
    memcpy(out + *used, l.start, head);
    *used += head;
    if (sep) { /* `... line 12 in f` -> `... line 12, in f` */
        out[(*used)++] = ',';
        memcpy(out + *used, sep, l.len - head);
        *used += l.len - head;
    }
    out[(*used)++] = '\n';
    out[*used] = '\0';
    return true;
}

/* Collects the frame lines of thread ident's section (most recent first). */
static int find_frames(const char *dump, size_t len, unsigned long ident, line_t *frames)
{
    const char *p = dump, *end = dump + len;
    int n = 0;
    bool inside = false;
    while (p < end) {
        line_t l = next_line(&p, end);
        unsigned long id;
        if (read_header(l, &id)) {
            if (inside)
                break;
            inside = id == ident;
        } else if (inside && starts_with(l, "  File ")) {
            if (n < CHD_STACKDUMP_MAX_FRAMES)
                frames[n++] = l;
        } else if (inside && l.len == 0) {
            break;
        }
    }
    return n;
}

int chd_stackdump_format(const char *dump, size_t len, unsigned long ident, char *out,
                         size_t cap)
{
    line_t frames[CHD_STACKDUMP_MAX_FRAMES];
    int n = find_frames(dump, len, ident, frames);
    size_t used = 0;
    if (cap > 0)
        out[0] = '\0';
    for (int i = n - 1; i >= 0 && cap > 0; i--)
        if (!append_frame(frames[i], out, cap, &used))
            break;
    return n;
}
