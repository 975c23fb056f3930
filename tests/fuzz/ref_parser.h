/* ref_parser: a reference HTTP/1.1 request parser for the tests only.
 *
 * Written from the ABNF of RFC 9112 (messages), RFC 9110 (fields,
 * methods) and RFC 3986 (authority), on its own, sharing no code with
 * child/: the differential check (ref_diff.h) feeds it the bytes the
 * server parses and the two must agree. Where Spawning deliberately
 * departs from the RFC (rejects what the RFC lets a recipient reject,
 * accepts what real clients send), the reference encodes the same policy
 * explicitly, each with a comment citing the RFC's latitude, so a
 * disagreement always means a bug on one side.
 *
 * It parses one message from the start of a complete buffer (not
 * streaming) and stops at the first byte no valid request could continue
 * with, or at the end of the message. */
#ifndef REF_PARSER_H
#define REF_PARSER_H

#include <stddef.h>

#define REF_INCOMPLETE (-1) /* the bytes are a valid prefix, nothing more */

typedef struct {
    const char *name, *value;
    size_t name_len, value_len;
} ref_field_t;

typedef struct {
    int status;  /* 0: a complete, valid request; REF_INCOMPLETE; else the HTTP status */
    size_t used; /* status 0: the message's bytes, leading empty lines included */
    const char *method, *target; /* into the input */
    size_t method_len, target_len;
    int major, minor;
    ref_field_t *fields; /* the head's fields (trailers are dropped), malloc'd */
    int nfields;
    char *body; /* the decoded body, malloc'd (NULL when empty) */
    size_t body_len;
} ref_result_t;

/* The server's limits that the reference models. */
typedef struct {
    int max_fields;              /* fields in the head, and trailers, each (431) */
    unsigned long long max_body; /* a Content-Length over it is 413; 0: none */
} ref_limits_t;

/* Parses one request from data. Fills *out (release it with
 * ref_result_free) and returns out->status. */
int ref_parse(const char *data, size_t len, const ref_limits_t *limits, ref_result_t *out);

void ref_result_free(ref_result_t *out);

#endif
