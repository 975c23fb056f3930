/* cmn_accessfmt: see cmn_accessfmt.h. */
#include "cmn_accessfmt.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    char letter;
    cmn_af_kind_t kind;
} letters[] = {
    {'h', CMN_AF_HOST},    {'l', CMN_AF_LOGNAME},   {'u', CMN_AF_USER},
    {'t', CMN_AF_TIME},    {'r', CMN_AF_REQUEST},   {'m', CMN_AF_METHOD},
    {'U', CMN_AF_PATH},    {'q', CMN_AF_QUERY},     {'H', CMN_AF_PROTOCOL},
    {'s', CMN_AF_STATUS},  {'B', CMN_AF_BYTES},     {'b', CMN_AF_BYTES_DASH},
    {'f', CMN_AF_REFERER}, {'a', CMN_AF_AGENT},     {'T', CMN_AF_SECONDS},
    {'M', CMN_AF_MILLIS},  {'D', CMN_AF_MICROS},    {'L', CMN_AF_DECIMAL},
    {'p', CMN_AF_PID},
};

/* The compiler's state: ops and strings grow into buffers sized for the
 * worst case up front, so compiling cannot run out half-way. */
typedef struct {
    cmn_accessfmt_t *f;
    size_t slen;       /* bytes used in f->strings */
    bool in_literal;   /* the last op is a LITERAL still being extended */
    bool fold;         /* constant atoms become literal text */
} compiler_t;

static void add_literal_byte(compiler_t *c, char ch)
{
    cmn_accessfmt_t *f = c->f;
    if (!c->in_literal) {
        f->ops[f->nops++] = (cmn_af_op_t){CMN_AF_LITERAL, (uint32_t)c->slen, 0};
        c->in_literal = true;
    }
    f->strings[c->slen++] = ch;
    f->ops[f->nops - 1].len++;
}

static void end_literal(compiler_t *c)
{
    if (c->in_literal)
        c->f->strings[c->slen++] = '\0';
    c->in_literal = false;
}

/* Shows the user's atom in an error, on one line and not too long. */
static void quote_atom(const char *s, size_t len, char *out, size_t outlen)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 4 < outlen; i++)
        out[n++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    if (len > 0 && n < len && n + 4 <= outlen) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
}

static bool is_token(const char *s, size_t len)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        bool alnum = (ch >= '0' && ch <= '9') || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z');
        if (!alnum && !strchr(extra, ch))
            return false;
    }
    return true;
}

/* Adds the op for the key of one atom (the text between the parentheses).
 * Returns 0, or -EINVAL when the key is not an atom we know. */
static int add_atom(compiler_t *c, const char *key, size_t len)
{
    cmn_accessfmt_t *f = c->f;
    if (c->fold && len == 1 && (key[0] == 'l' || key[0] == 'u')) {
        add_literal_byte(c, '-'); /* what CMN_AF_LOGNAME and CMN_AF_USER show */
        return 0;
    }
    end_literal(c);
    if (len == 1) {
        for (size_t i = 0; i < sizeof letters / sizeof letters[0]; i++) {
            if (letters[i].letter == key[0]) {
                f->ops[f->nops++] = (cmn_af_op_t){letters[i].kind, 0, 0};
                return 0;
            }
        }
        return -EINVAL;
    }
    if (len < 4 || key[0] != '{' || key[len - 2] != '}' || (key[len - 1] != 'i' && key[len - 1] != 'o'))
        return -EINVAL;
    const char *name = key + 1;
    size_t nlen = len - 3;
    if (!is_token(name, nlen))
        return -EINVAL;
    f->ops[f->nops++] = (cmn_af_op_t){key[len - 1] == 'i' ? CMN_AF_REQ_HEADER : CMN_AF_RESP_HEADER,
                                      (uint32_t)c->slen, (uint32_t)nlen};
    memcpy(f->strings + c->slen, name, nlen);
    c->slen += nlen;
    f->strings[c->slen++] = '\0';
    return 0;
}

/* Compiles the atom starting at s ("%(...)s"). Returns the bytes it spans,
 * or -EINVAL with err filled. */
static long compile_atom(compiler_t *c, const char *s, char *err, size_t errlen)
{
    char shown[48];
    const char *close = strchr(s + 2, ')');
    if (!close || close[1] != 's') {
        quote_atom(s, close ? (size_t)(close - s) + 1 : strlen(s), shown, sizeof shown);
        snprintf(err, errlen, "atom '%s' must end in ')s', as in %%(h)s", shown);
        return -EINVAL;
    }
    size_t span = (size_t)(close - s) + 2;
    if (add_atom(c, s + 2, (size_t)(close - s) - 2) < 0) {
        quote_atom(s, span, shown, sizeof shown);
        snprintf(err, errlen, "unknown atom '%s'", shown);
        return -EINVAL;
    }
    return (long)span;
}

static int compile(compiler_t *c, const char *format, char *err, size_t errlen)
{
    for (const char *s = format; *s;) {
        if (*s != '%') {
            add_literal_byte(c, *s++);
        } else if (s[1] == '%') {
            add_literal_byte(c, '%');
            s += 2;
        } else if (s[1] == '(') {
            long span = compile_atom(c, s, err, errlen);
            if (span < 0)
                return (int)span;
            s += span;
        } else {
            snprintf(err, errlen, "a '%%' must start an atom such as %%(h)s, or be doubled (%%%%)");
            return -EINVAL;
        }
    }
    end_literal(c);
    return 0;
}

static int compile_new(const char *format, bool fold, cmn_accessfmt_t *out, char *err,
                       size_t errlen)
{
    if (!format)
        format = CMN_ACCESSFMT_DEFAULT;
    size_t len = strlen(format);
    memset(out, 0, sizeof *out);
    /* At most one op per format byte; strings at most every byte plus a NUL
     * after each op. */
    out->ops = malloc((len + 1) * sizeof *out->ops);
    out->strings = malloc(2 * len + 1);
    if (!out->ops || !out->strings) {
        cmn_accessfmt_free(out);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    compiler_t c = {.f = out, .fold = fold};
    int rc = compile(&c, format, err, errlen);
    if (rc < 0)
        cmn_accessfmt_free(out);
    return rc;
}

int cmn_accessfmt_compile(const char *format, cmn_accessfmt_t *out, char *err, size_t errlen)
{
    return compile_new(format, false, out, err, errlen);
}

int cmn_accessfmt_compile_folded(const char *format, cmn_accessfmt_t *out, char *err,
                                 size_t errlen)
{
    return compile_new(format, true, out, err, errlen);
}

void cmn_accessfmt_free(cmn_accessfmt_t *f)
{
    free(f->ops);
    free(f->strings);
    memset(f, 0, sizeof *f);
}
