/* adm_spark: a trend as one line of text, for `spawnctl top`.
 *
 * Draws the newest points of a JSON array of numbers (oldest first, as the
 * status document's trends are: controller/ctl_history.h) as a row of
 * eight-level bars: Unicode block elements on a UTF-8 terminal, ASCII
 * characters otherwise. The tallest point of the row gets the full bar; a
 * row of zeros stays at the lowest level. Non-numbers are skipped. */
#ifndef ADM_SPARK_H
#define ADM_SPARK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Writes at most `width` bars (the newest points) into out (of size bytes,
 * NUL-terminated; a UTF-8 bar takes 3 bytes). Returns the bars written. */
int adm_spark(json_t *points, int width, bool utf8, char *out, size_t size);

#endif
