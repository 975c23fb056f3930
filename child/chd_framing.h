/* chd_framing: strict RFC 9112 checks of the raw request bytes.
 *
 * Debian builds http-parser in its lenient mode: it accepts "HTTQ/1.1", and
 * skips any two bytes after chunk data as if they were CRLF. Where two
 * parsers may disagree on where a request ends, lenience is a smuggling
 * hole, so these small state machines re-check, byte by byte, the two
 * places that decide framing: the head (request line and field lines) and
 * the chunked body. They
 * see the same bytes as http-parser; a request either passes both or is
 * rejected with 400. Plain C, no allocation. */
#ifndef CHD_FRAMING_H
#define CHD_FRAMING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t state;
    uint8_t pos;     /* index into "HTTP/x.y" */
    uint32_t length; /* bytes of the request line seen so far (without leading empty lines) */
} chd_head_check_t;

typedef struct {
    uint8_t state;
    uint8_t digits;
    uint64_t left; /* chunk data bytes still to come */
} chd_chunk_check_t;

typedef enum {
    CHD_CHECK_MORE = 0, /* all bytes fine, not finished */
    CHD_CHECK_DONE = 1, /* finished (the line, or the whole chunked body) */
    CHD_CHECK_BAD = -1, /* a violation */
} chd_check_result_t;

void chd_head_check_init(chd_head_check_t *c);

/* Checks the head: leading empty lines, then the request line (method
 * token, SP, target of visible bytes, SP, "HTTP/" DIGIT "." DIGIT, CRLF),
 * then field lines up to the empty line: every line ends in CRLF (no bare
 * CR or LF), no NUL, no line starting with whitespace (obs-fold). Looks at
 * most through the head's final LF and stores in *used how many bytes it
 * examined, so body bytes and the next request are never examined. */
chd_check_result_t chd_head_check(chd_head_check_t *c, const char *data, size_t len, size_t *used);

/* True once the request line has been checked completely. */
bool chd_head_check_line_done(const chd_head_check_t *c);

void chd_chunk_check_init(chd_chunk_check_t *c);

/* Checks bytes of a chunked body, from the first byte after the head:
 * chunk-size (1-16 HEXDIG), then BWS only before ";" extensions (so "5 \r\n"
 * is bad), CRLF, data, CRLF, ..., last-chunk,
 * trailer lines, CRLF. Returns DONE after the final CRLF. */
chd_check_result_t chd_chunk_check(chd_chunk_check_t *c, const char *data, size_t len);

/* Where in data, the chunked body's bytes that follow those c checked, the
 * first HTAB right after a chunk-size is (the BWS before a ';' extension
 * begins with it), or len when none comes before the body ends or goes
 * wrong. http-parser takes only SP there; RFC 9112 has BWS parsed and
 * dropped, so the request gives http-parser SP in that byte's place. c is
 * not changed. */
size_t chd_chunk_find_tab_bws(const chd_chunk_check_t *c, const char *data, size_t len);

/* 1 for the bytes RFC 9110 allows in a token, 0 for the others. */
extern const uint8_t chd_tchar_table[256];

/* True for the bytes RFC 9110 allows in a token (field names, methods).
 * A table look-up: it runs for every byte of every method and field name. */
static inline bool chd_is_tchar(unsigned char c) { return chd_tchar_table[c]; }

#endif
