/* cmn_statusfmt: reading the status document and formatting its numbers
 * for people.
 *
 * The controller's status document (the JSON of the admin socket's "status"
 * command and the status service) is shown to people twice: as plain text by
 * `spawnctl status` (admin/adm_status_table.c) and as an HTML page by the
 * controller (controller/ctl_status_html.c). Both read members and format
 * numbers the same way, here.
 *
 * Missing members: a reader returns false (or NULL) when `obj` is NULL or not
 * an object, when `key` is absent, or when the member has the wrong type;
 * each cmn_statusfmt_cell_* function then returns the static string "-".
 *
 * Nothing here escapes anything: the strings it writes hold only digits,
 * ASCII letters, spaces, '-', ',' and '.', and get_str hands back the
 * document's own bytes. Escaping belongs to the caller that knows its
 * output: HTML in ctl_status_html.c, control characters in
 * adm_status_table.c.
 *
 * No allocation, no global state; safe from any thread. */
#ifndef CMN_STATUSFMT_H
#define CMN_STATUSFMT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Size of the buffer every cmn_statusfmt_cell_* function writes into: room
 * for any one formatted value, with its NUL. */
#define CMN_STATUSFMT_CELL 64

/* ---- reading members ---------------------------------------------------- */

/* Stores obj[key] in *v and returns true when it is a JSON number (integer or
 * real); otherwise returns false and leaves *v alone. obj is borrowed. */
bool cmn_statusfmt_get_num(json_t *obj, const char *key, double *v);

/* Stores obj[key] in *v and returns true when it is a JSON integer, or a real
 * within +-9e18 (truncated toward zero); otherwise returns false and leaves
 * *v alone. */
bool cmn_statusfmt_get_int(json_t *obj, const char *key, long long *v);

/* obj[key] when it is a JSON string, else NULL. The string is borrowed from
 * the document (valid while obj is) and not escaped. */
const char *cmn_statusfmt_get_str(json_t *obj, const char *key);

/* ---- formatting numbers ------------------------------------------------- */
/* Each writes a NUL-terminated string of at most len - 1 bytes into buf
 * (len > 0), truncating what does not fit. A count or a duration always fits
 * in 32 bytes, and so do bytes below 1e30. */

/* Thousands separated by commas: 1234567 -> "1,234,567", -1000 -> "-1,000". */
void cmn_statusfmt_count(long long v, char *buf, size_t len);

/* Whole seconds as "45s", "2m 03s", "1h 02m 03s", "3d 04h 05m" (days drop
 * the seconds). Fractions are truncated; negative and NaN show as "0s", and
 * more than 1e15 seconds as 1e15. */
void cmn_statusfmt_duration(double secs, char *buf, size_t len);

/* Binary units: "512 B" (no decimals), then "120.6 KiB", "30.0 MiB",
 * "1.2 GiB", "3.0 TiB" (one decimal, rounded); TiB is the largest unit. */
void cmn_statusfmt_bytes(double b, char *buf, size_t len);

/* ---- table cells -------------------------------------------------------- */
/* Each formats obj[key] into buf (CMN_STATUSFMT_CELL bytes) and returns buf,
 * or returns the static string "-" (buf untouched) when the member is
 * missing or of the wrong type, as described above. obj may be NULL. */

/* An identifier (pid, generation): plain digits, "1234". */
const char *cmn_statusfmt_cell_int(json_t *obj, const char *key, char buf[CMN_STATUSFMT_CELL]);

/* A quantity: cmn_statusfmt_count, "1,520". */
const char *cmn_statusfmt_cell_count(json_t *obj, const char *key, char buf[CMN_STATUSFMT_CELL]);

/* Seconds: cmn_statusfmt_duration, "1h 02m 03s". */
const char *cmn_statusfmt_cell_duration(json_t *obj, const char *key,
                                        char buf[CMN_STATUSFMT_CELL]);

/* Bytes as MiB with one decimal and no unit: 31457280 -> "30.0". */
const char *cmn_statusfmt_cell_mib(json_t *obj, const char *key, char buf[CMN_STATUSFMT_CELL]);

/* A rate with one decimal: 50.34 -> "50.3". */
const char *cmn_statusfmt_cell_rate(json_t *obj, const char *key, char buf[CMN_STATUSFMT_CELL]);

/* Bytes: cmn_statusfmt_bytes, "120.6 KiB". */
const char *cmn_statusfmt_cell_bytes(json_t *obj, const char *key, char buf[CMN_STATUSFMT_CELL]);

/* How long before doc["now"] the timestamp obj[key] was: "0.3s ago" under a
 * minute, else cmn_statusfmt_duration plus " ago" ("2m 05s ago"); a
 * timestamp after "now" shows as "0.0s ago". "-" when either member is
 * missing. */
const char *cmn_statusfmt_cell_ago(json_t *doc, json_t *obj, const char *key,
                                   char buf[CMN_STATUSFMT_CELL]);

/* The reasons connections closed for (the document's connections.closed),
 * those that happened, in the document's order: "finished 1,520, idle 3,
 * malformed 1"; "-" when none (or the member is missing). A count that is
 * not an integer is left out. Cut to len - 1 bytes. Not escaped. */
void cmn_statusfmt_closed(json_t *doc, char *buf, size_t len);

#endif
