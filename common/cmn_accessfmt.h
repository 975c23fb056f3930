/* cmn_accessfmt: the access log format, compiled once into a list of ops.
 *
 * A format is gunicorn's notation: literal text with atoms `%(X)s`, where X
 * is one letter (h l u t r m U q H s B b f a T M D L p) or `{Header-Name}i`
 * (a request header) or `{Header-Name}o` (a response header); `%%` is a
 * literal `%`. The controller compiles --access-log-format while parsing
 * options, so an unknown atom is a one-line start-up error (exit 2); each
 * child compiles it again and formats every line from the op list
 * (chd_accesslog.c) without parsing the text per request. Plain C, no
 * allocation after compiling, no I/O. */
#ifndef CMN_ACCESSFMT_H
#define CMN_ACCESSFMT_H

#include <stddef.h>
#include <stdint.h>

/* Apache's "combined" format plus the request time in seconds. */
#define CMN_ACCESSFMT_DEFAULT                                                                      \
    "%(h)s %(l)s %(u)s %(t)s \"%(r)s\" %(s)s %(b)s \"%(f)s\" \"%(a)s\" %(L)s"

typedef enum {
    CMN_AF_LITERAL,     /* text */
    CMN_AF_HOST,        /* h: REMOTE_ADDR */
    CMN_AF_LOGNAME,     /* l: always "-" */
    CMN_AF_USER,        /* u: "-" (the server does not know REMOTE_USER) */
    CMN_AF_TIME,        /* t: [01/Dec/2026:02:16:39 +0000] */
    CMN_AF_REQUEST,     /* r: GET /path?q HTTP/1.1 */
    CMN_AF_METHOD,      /* m */
    CMN_AF_PATH,        /* U: the target without the query */
    CMN_AF_QUERY,       /* q: the query, without '?' */
    CMN_AF_PROTOCOL,    /* H: HTTP/1.1 */
    CMN_AF_STATUS,      /* s */
    CMN_AF_BYTES,       /* B: body bytes sent */
    CMN_AF_BYTES_DASH,  /* b: the same, "-" for 0 */
    CMN_AF_REFERER,     /* f */
    CMN_AF_AGENT,       /* a */
    CMN_AF_SECONDS,     /* T: whole seconds */
    CMN_AF_MILLIS,      /* M */
    CMN_AF_MICROS,      /* D */
    CMN_AF_DECIMAL,     /* L: seconds with six decimals */
    CMN_AF_PID,         /* p */
    CMN_AF_REQ_HEADER,  /* {Name}i */
    CMN_AF_RESP_HEADER, /* {Name}o */
} cmn_af_kind_t;

typedef struct {
    cmn_af_kind_t kind;
    uint32_t off, len; /* LITERAL: the text; *_HEADER: the name (NUL-terminated) in strings */
} cmn_af_op_t;

typedef struct {
    cmn_af_op_t *ops;
    int nops;
    char *strings; /* literals and header names, each followed by a NUL */
} cmn_accessfmt_t;

/* The text of a LITERAL op or the name of a *_HEADER op (NUL-terminated). */
static inline const char *cmn_af_text(const cmn_accessfmt_t *f, const cmn_af_op_t *op)
{
    return f->strings + op->off;
}

/* Compiles `format` (NULL: CMN_ACCESSFMT_DEFAULT) into out, which the
 * caller frees with cmn_accessfmt_free. Returns 0; -EINVAL with one line in
 * err naming the bad atom (nothing to free); or -ENOMEM. */
int cmn_accessfmt_compile(const char *format, cmn_accessfmt_t *out, char *err, size_t errlen);

/* cmn_accessfmt_compile for formatting lines: the atoms whose value never
 * changes (%(l)s and %(u)s, always "-") are compiled into the literal text
 * around them, so the same lines take fewer ops ("%(h)s %(l)s %(u)s %(t)s"
 * is HOST, " - - ", TIME). */
int cmn_accessfmt_compile_folded(const char *format, cmn_accessfmt_t *out, char *err,
                                 size_t errlen);

void cmn_accessfmt_free(cmn_accessfmt_t *f);

#endif
