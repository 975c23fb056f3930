/* adm_status_table: `spawnctl status` for people at a terminal.
 *
 * Prints the controller's status document (the JSON the admin socket's
 * "status" command returns) as plain text: a block of "name  value" lines
 * about the controller, then one column-aligned row per child, sorted by
 * generation then pid. Members missing from the document (or of the wrong
 * type) print as "-". Control characters in strings from the document are
 * printed as '?', so an app name or a reload error cannot drive the
 * terminal. */
#ifndef ADM_STATUS_TABLE_H
#define ADM_STATUS_TABLE_H

#include <jansson.h>
#include <stdio.h>

/* Writes the report for `doc` (borrowed, only read) to `out`. Returns 0;
 * -EINVAL (printing nothing) when doc is NULL or not a JSON object; -ENOMEM
 * when the children cannot be sorted; -EIO when writing to `out` failed. */
int adm_status_print(FILE *out, json_t *doc);

/* Only the children table (after a blank line), or "no children". Returns
 * 0 or -ENOMEM. `spawnctl top` prints it under its own summary. */
int adm_status_print_children(FILE *out, json_t *doc);

#endif
