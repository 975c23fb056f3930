/* chd_framing: see chd_framing.h. */
#include "chd_framing.h"

#include "chd_request.h"

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

/* Request-target bytes: visible ASCII, and bytes >= 0x80 (raw UTF-8 that
 * some clients send; the app sees them latin-1 decoded). */
static bool is_target_byte(unsigned char b) { return (b > 0x20 && b < 0x7f) || b >= 0x80; }

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

chd_check_result_t chd_head_check(chd_head_check_t *c, const char *data, size_t len, size_t *used)
{
    chd_check_result_t rc = c->state == HEAD_DONE ? CHD_CHECK_DONE : CHD_CHECK_MORE;
    size_t i = 0;
    while (rc == CHD_CHECK_MORE && i < len) {
        uint8_t before = c->state;
        rc = head_step(c, (unsigned char)data[i++]);
        /* Count the request line with its CRLF, not the empty lines before it. */
        if (before >= LINE_METHOD ? before <= LINE_LF : c->state == LINE_METHOD)
            c->length++;
    }
    *used = i;
    return rc;
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
        if (b != '\r')
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

chd_check_result_t chd_chunk_check(chd_chunk_check_t *c, const char *data, size_t len)
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
        chd_check_result_t rc = chunk_step(c, (unsigned char)data[i++]);
        if (rc != CHD_CHECK_MORE)
            return rc;
    }
    return c->state == CK_DONE ? CHD_CHECK_DONE : CHD_CHECK_MORE;
}
