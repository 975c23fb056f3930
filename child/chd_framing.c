/* chd_framing: see chd_framing.h. */
#include "chd_framing.h"


#include <string.h>

enum {
    LINE_LEAD, LINE_LEAD_LF, LINE_METHOD, LINE_TARGET_START, LINE_TARGET, LINE_VERSION, LINE_LF,
    FIELD_START, FIELD, FIELD_LF, END_LF, HEAD_DONE,
};

void chd_head_check_init(chd_head_check_t *c)
{
    c->state = LINE_LEAD;
    c->pos = 0;
    c->length = 0;
}

/* Byte classes for the fast paths of chd_head_check:
 * TARGET_BYTE: a request-target byte: visible ASCII, and bytes >= 0x80 (raw
 *   UTF-8 that some clients send; the app sees them latin-1 decoded);
 * TEXT_BYTE: a byte that may sit inside a field line: anything but NUL, CR
 *   and LF (the values' finer rules are checked after http-parser). */
enum { TARGET_BYTE = 1, TEXT_BYTE = 2 };
static const uint8_t byte_class[256] = {
    0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 2, 2, 0, 2, 2, /* 00 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 10 */
    2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, /* 20 */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, /* 30 */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, /* 40 */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, /* 50 */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, /* 60 */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, /* 70 */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, /* 80 */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, /* 90 */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, /* a0 */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, /* b0 */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, /* c0 */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, /* d0 */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, /* e0 */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, /* f0 */
};

static bool is_target_byte(unsigned char b) { return byte_class[b] & TARGET_BYTE; }

static bool version_byte_ok(uint8_t pos, unsigned char b)
{
    static const char prefix[] = "HTTP/";
    if (pos < 5)
        return b == (unsigned char)prefix[pos];
    if (pos == 6)
        return b == '.';
    return b >= '0' && b <= '9'; /* pos 5 and 7 */
}

static chd_check_result_t head_step(chd_head_check_t *c, unsigned char b)
{
    switch (c->state) {
    case LINE_LEAD: /* RFC 9112 2.2: empty lines (CRLF) before a request are ignored */
        if (b == '\r') {
            c->state = LINE_LEAD_LF;
            return CHD_CHECK_MORE;
        }
        if (b == '\n')
            return CHD_CHECK_BAD;
        c->state = LINE_METHOD;
        /* fall through */
    case LINE_METHOD:
        if (b == ' ' && c->pos > 0) {
            c->state = LINE_TARGET_START;
            return CHD_CHECK_MORE;
        }
        c->pos = 1;
        return chd_is_tchar(b) ? CHD_CHECK_MORE : CHD_CHECK_BAD;
    case LINE_LEAD_LF:
        c->state = LINE_LEAD;
        return b == '\n' ? CHD_CHECK_MORE : CHD_CHECK_BAD;
    case LINE_TARGET_START:
    case LINE_TARGET:
        if (b == ' ' && c->state == LINE_TARGET) {
            c->state = LINE_VERSION;
            c->pos = 0;
            return CHD_CHECK_MORE;
        }
        c->state = LINE_TARGET;
        return is_target_byte(b) ? CHD_CHECK_MORE : CHD_CHECK_BAD;
    case LINE_VERSION:
        if (c->pos == 8) {
            c->state = LINE_LF;
            return b == '\r' ? CHD_CHECK_MORE : CHD_CHECK_BAD;
        }
        return version_byte_ok(c->pos++, b) ? CHD_CHECK_MORE : CHD_CHECK_BAD;
    case LINE_LF:
        c->state = FIELD_START;
        return b == '\n' ? CHD_CHECK_MORE : CHD_CHECK_BAD;
    case FIELD_START:
        if (b == '\r') {
            c->state = END_LF;
            return CHD_CHECK_MORE;
        }
        if (b == ' ' || b == '\t')
            return CHD_CHECK_BAD; /* obs-fold, or whitespace before the first field */
        c->state = FIELD;
        /* fall through */
    case FIELD:
        if (b == '\r')
            c->state = FIELD_LF;
        return b == '\n' || b == '\0' ? CHD_CHECK_BAD : CHD_CHECK_MORE;
    case FIELD_LF:
        c->state = FIELD_START;
        return b == '\n' ? CHD_CHECK_MORE : CHD_CHECK_BAD;
    case END_LF:
        c->state = HEAD_DONE;
        return b == '\n' ? CHD_CHECK_DONE : CHD_CHECK_BAD;
    default:
        return CHD_CHECK_DONE;
    }
}

bool chd_head_check_line_done(const chd_head_check_t *c) { return c->state >= FIELD_START; }

/* True when p (10 bytes) is "HTTP/" DIGIT "." DIGIT CRLF. */
static bool is_version_crlf(const unsigned char *p)
{
    return memcmp(p, "HTTP/", 5) == 0 && p[5] >= '0' && p[5] <= '9' && p[6] == '.' &&
           p[7] >= '0' && p[7] <= '9' && p[8] == '\r' && p[9] == '\n';
}

/* Word-at-a-time scanning, eight bytes per step (a field line is mostly a
 * run of plain bytes). The bit tricks mark bytes in their high bit; the
 * lowest marked byte is always a true one (a borrow only runs upwards),
 * so the first stop in a word is found exactly. */
#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/* Marks the bytes of v below n (n <= 0x80). */
static uint64_t bytes_below(uint64_t v, uint8_t n) { return (v - ONES * n) & ~v & HIGHS; }

/* Marks the bytes of v equal to b. */
static uint64_t bytes_equal(uint64_t v, uint8_t b) { return bytes_below(v ^ (ONES * b), 1); }

/* Marks the bytes among the eight at p that are not of `class`. */
static uint64_t stop_bytes(const unsigned char *p, uint8_t class)
{
    uint64_t v;
    memcpy(&v, p, sizeof v); /* an unaligned load */
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v); /* the first byte in the lowest bits */
#endif
    if (class == TEXT_BYTE)
        return bytes_equal(v, 0) | bytes_equal(v, '\r') | bytes_equal(v, '\n');
    return bytes_below(v, 0x21) | bytes_equal(v, 0x7f); /* TARGET_BYTE */
}

/* Skips a run of `class` bytes from p[i]; returns the index after it. */
static inline size_t skip_class(const unsigned char *p, size_t i, size_t len, uint8_t class)
{
    for (; len - i >= 8; i += 8) {
        uint64_t stops = stop_bytes(p + i, class);
        if (stops)
            return i + (size_t)__builtin_ctzll(stops) / 8;
    }
    while (i < len && (byte_class[p[i]] & class))
        i++;
    return i;
}

/* The fast path of chd_head_check over the request line: consumes, from
 * p[i], the bytes head_step would accept -- the method, its SP, the target,
 * its SP, a whole "HTTP/d.d\r\n" -- leaving c as head_step would. Stops at
 * the first byte it is not sure of (a violation, or a version split across
 * reads) and leaves that to head_step. Returns the index of that byte (len
 * if none). Needs i < len. */
static size_t skip_request_line(chd_head_check_t *c, const unsigned char *p, size_t i, size_t len)
{
    size_t start = i, from;
    switch (c->state) {
    case LINE_LEAD:
        if (p[i] == '\r' || p[i] == '\n')
            return i;
        c->state = LINE_METHOD; /* the byte is the method's */
        /* fall through */
    case LINE_METHOD:
        from = i;
        while (i < len && chd_is_tchar(p[i]))
            i++;
        if (i > from)
            c->pos = 1;
        if (i == len || p[i] != ' ' || c->pos == 0)
            break;
        c->state = LINE_TARGET_START;
        i++;
        /* fall through */
    case LINE_TARGET_START:
    case LINE_TARGET:
        from = i;
        i = skip_class(p, i, len, TARGET_BYTE);
        if (i > from)
            c->state = LINE_TARGET;
        if (i == len || p[i] != ' ' || c->state != LINE_TARGET)
            break;
        c->state = LINE_VERSION;
        c->pos = 0;
        i++;
        /* fall through */
    case LINE_VERSION:
        if (c->pos == 0 && len - i >= 10 && is_version_crlf(p + i)) {
            c->state = FIELD_START;
            c->pos = 8;
            i += 10;
        }
        break;
    default:
        break;
    }
    c->length += (uint32_t)(i - start); /* all of it is the request line's */
    return i;
}

/* The same over the field lines: consumes runs of field-line bytes, the
 * CRLF that ends each line, and the empty line that ends the head. A line
 * that starts with whitespace (obs-fold), a bare CR, LF or NUL is left to
 * head_step to refuse. */
static size_t skip_fields(chd_head_check_t *c, const unsigned char *p, size_t i, size_t len)
{
    while (i < len) {
        if (c->state == FIELD_START) {
            if (p[i] == '\r' && len - i >= 2 && p[i + 1] == '\n') {
                c->state = HEAD_DONE;
                return i + 2;
            }
            if (p[i] == '\r' || p[i] == ' ' || p[i] == '\t')
                return i;
            c->state = FIELD; /* the byte is the line's */
        } else if (c->state != FIELD) {
            return i;
        }
        i = skip_class(p, i, len, TEXT_BYTE);
        if (len - i < 2 || p[i] != '\r' || p[i + 1] != '\n')
            return i;
        c->state = FIELD_START;
        i += 2;
    }
    return i;
}

chd_check_result_t chd_head_check(chd_head_check_t *c, const char *data, size_t len, size_t *used)
{
    const unsigned char *p = (const unsigned char *)data;
    chd_check_result_t rc = CHD_CHECK_MORE;
    size_t i = 0;
    /* The fast paths take the common bytes; head_step, the reference, takes
     * each byte they stop at, then they go on. */
    while (rc == CHD_CHECK_MORE && i < len && c->state != HEAD_DONE) {
        if (c->state < FIELD_START)
            i = skip_request_line(c, p, i, len);
        if (i < len)
            i = skip_fields(c, p, i, len);
        if (i == len || c->state == HEAD_DONE)
            break;
        uint8_t before = c->state;
        rc = head_step(c, p[i++]);
        /* Count the request line with its CRLF, not the empty lines before it. */
        if (before >= LINE_METHOD ? before <= LINE_LF : c->state == LINE_METHOD)
            c->length++;
    }
    *used = i;
    return rc == CHD_CHECK_MORE && c->state == HEAD_DONE ? CHD_CHECK_DONE : rc;
}

enum {
    CK_SIZE_START, CK_SIZE, CK_SIZE_BWS, CK_EXT, CK_SIZE_LF, CK_DATA, CK_DATA_CR, CK_DATA_LF,
    CK_TRAILER_START, CK_TRAILER, CK_TRAILER_LF, CK_FINAL_LF, CK_DONE,
};

void chd_chunk_check_init(chd_chunk_check_t *c)
{
    c->state = CK_SIZE_START;
    c->digits = 0;
    c->left = 0;
}

static int hex_digit(unsigned char b)
{
    if (b >= '0' && b <= '9')
        return b - '0';
    if ((b | 0x20) >= 'a' && (b | 0x20) <= 'f')
        return (b | 0x20) - 'a' + 10;
    return -1;
}

/* After the size line: data, or the trailer section for the last chunk. */
static chd_check_result_t end_of_size_line(chd_chunk_check_t *c, unsigned char b)
{
    if (b != '\n')
        return CHD_CHECK_BAD;
    c->state = c->left > 0 ? CK_DATA : CK_TRAILER_START;
    return CHD_CHECK_MORE;
}

static chd_check_result_t chunk_step(chd_chunk_check_t *c, unsigned char b)
{
    int h;
    switch (c->state) {
    case CK_SIZE_START:
    case CK_SIZE:
        if ((h = hex_digit(b)) >= 0) {
            if (++c->digits > 16)
                return CHD_CHECK_BAD; /* would overflow 64 bits */
            c->left = c->left * 16 + (uint64_t)h;
            c->state = CK_SIZE;
            return CHD_CHECK_MORE;
        }
        if (c->state == CK_SIZE_START)
            return CHD_CHECK_BAD;
        /* fall through */
    case CK_SIZE_BWS: /* chunk-size BWS ";" ext: whitespace only before a ';' */
        if (b == ' ' || b == '\t') {
            c->state = CK_SIZE_BWS;
            return CHD_CHECK_MORE;
        }
        if (b == ';') {
            c->state = CK_EXT;
            return CHD_CHECK_MORE;
        }
        /* RFC 9112 7.1: BWS may come only before a ';' extension, so
         * "0 \r\n" is malformed: CR ends only the digits or an extension. */
        if (b != '\r' || c->state == CK_SIZE_BWS)
            return CHD_CHECK_BAD;
        /* fall through */
    case CK_EXT:
        if (b == '\r') {
            c->state = CK_SIZE_LF;
            return CHD_CHECK_MORE;
        }
        return (b == '\t' || (b >= 0x20 && b != 0x7f)) && c->state == CK_EXT ? CHD_CHECK_MORE
                                                                              : CHD_CHECK_BAD;
    case CK_SIZE_LF:
        return end_of_size_line(c, b);
    case CK_DATA: /* the caller skips data bytes in bulk; one here */
        if (--c->left == 0)
            c->state = CK_DATA_CR;
        return CHD_CHECK_MORE;
    case CK_DATA_CR:
        c->state = CK_DATA_LF;
        return b == '\r' ? CHD_CHECK_MORE : CHD_CHECK_BAD;
    case CK_DATA_LF:
        c->state = CK_SIZE_START;
        c->digits = 0;
        return b == '\n' ? CHD_CHECK_MORE : CHD_CHECK_BAD;
    case CK_TRAILER_START:
        if (b == '\r') {
            c->state = CK_FINAL_LF;
            return CHD_CHECK_MORE;
        }
        if (b == ' ' || b == '\t')
            return CHD_CHECK_BAD; /* obs-fold in a trailer */
        c->state = CK_TRAILER;
        /* fall through */
    case CK_TRAILER:
        if (b == '\r') {
            c->state = CK_TRAILER_LF;
            return CHD_CHECK_MORE;
        }
        return b == '\n' || b == '\0' ? CHD_CHECK_BAD : CHD_CHECK_MORE;
    case CK_TRAILER_LF:
        c->state = CK_TRAILER_START;
        return b == '\n' ? CHD_CHECK_MORE : CHD_CHECK_BAD;
    case CK_FINAL_LF:
        c->state = CK_DONE;
        return b == '\n' ? CHD_CHECK_DONE : CHD_CHECK_BAD;
    default:
        return CHD_CHECK_DONE;
    }
}

/* chd_chunk_check's loop; with tab_at, it stops short of the first HTAB
 * right after a chunk-size and stores its index there. */
static chd_check_result_t scan_chunks(chd_chunk_check_t *c, const char *data, size_t len,
                                      size_t *tab_at)
{
    size_t i = 0;
    while (i < len) {
        if (c->state == CK_DATA && c->left > 1) {
            /* Skip the bulk of the data at once; the last byte goes through
             * chunk_step so the state moves on. */
            size_t skip = len - i;
            if (skip > c->left - 1)
                skip = (size_t)(c->left - 1);
            c->left -= skip;
            i += skip;
            continue;
        }
        if (tab_at && c->state == CK_SIZE && data[i] == '\t') {
            *tab_at = i;
            return CHD_CHECK_MORE;
        }
        chd_check_result_t rc = chunk_step(c, (unsigned char)data[i++]);
        if (rc != CHD_CHECK_MORE)
            return rc;
    }
    return c->state == CK_DONE ? CHD_CHECK_DONE : CHD_CHECK_MORE;
}

chd_check_result_t chd_chunk_check(chd_chunk_check_t *c, const char *data, size_t len)
{
    return scan_chunks(c, data, len, NULL);
}

size_t chd_chunk_find_tab_bws(const chd_chunk_check_t *c, const char *data, size_t len)
{
    if (!memchr(data, '\t', len))
        return len; /* the usual case: no second pass over the chunks */
    chd_chunk_check_t ahead = *c;
    size_t tab_at = len;
    scan_chunks(&ahead, data, len, &tab_at);
    return tab_at;
}

const uint8_t chd_tchar_table[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 10 */
    0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0, /* 20  !"#$%&'()*+,-./ */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, /* 30 0123456789:;<=>? */
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 40 @ABCDEFGHIJKLMNO */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, /* 50 PQRSTUVWXYZ[\]^_ */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 60 `abcdefghijklmno */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, /* 70 pqrstuvwxyz{|}~  */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 80 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 90 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* a0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* b0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* c0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* d0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* e0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* f0 */
};
