/* ref_diff: the differential check of the request parser against the
 * reference (ref_parser.h), shared by the fuzz target and the unit test.
 *
 * The same bytes go to chd_request (fed in pieces, message after message,
 * as a connection would) and to ref_parse. They must agree: every message
 * the server completes the reference completes too, at the same byte, with
 * the same method, target, version, fields and body; a message the server
 * refuses the reference refuses (or, for a prefix, has not judged yet);
 * and where the server wants more bytes the reference has accepted
 * nothing. */
#ifndef REF_DIFF_H
#define REF_DIFF_H

#include "chd_request.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    bool compare_status; /* also the refusal's status (for whole feeds of the corpus) */
    int server_status;   /* the first message's verdict: 0 accepted, -1 incomplete, or the status */
    int ref_status;
    size_t accepted;     /* bytes of the messages both accepted */
    char why[512];       /* the disagreement, when ref_diff_run returns -1 */
} ref_diff_t;

/* Runs r (initialized by the caller, with its limits) over data in pieces
 * of `step` bytes (0: one feed), calling on_done(ctx) for each message it
 * completes (before r is reset for the next one). Returns 0 when server
 * and reference agree, -1 with d->why otherwise. */
int ref_diff_run(chd_request_t *r, const char *data, size_t len, size_t step,
                 void (*on_done)(void *ctx), void *ctx, ref_diff_t *d);

#endif
