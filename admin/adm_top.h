/* adm_top: `spawnctl top`, the status live in a terminal.
 *
 * Asks the controller for its status document every `interval` seconds and
 * redraws one screen in place: the request rate with its trend of the last
 * minutes, latency percentiles, busy threads against the configured, the
 * children (the `spawnctl status` table) and each child's memory trend.
 * On a terminal the screen is cleared and redrawn, the cursor hidden and
 * the keyboard read raw so that `q` quits; everything is put back on exit,
 * Ctrl-C and SIGTERM included. Not on a terminal (a pipe, a test), frames
 * are printed one after another, separated by a blank line. A controller
 * that stops answering is shown on the screen and asked again; only the
 * first request failing ends top (exit 1). */
#ifndef ADM_TOP_H
#define ADM_TOP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/* Writes one frame for `doc` (borrowed) to out; `error` (or NULL) is shown
 * instead of the numbers when the last request failed. utf8: the terminal
 * takes Unicode block elements for the trends. */
void adm_top_frame(FILE *out, json_t *doc, const char *error, bool utf8);

/* Runs top against the admin socket at `socket_path`: `count` frames (0:
 * until q, Ctrl-C or SIGTERM). Returns the exit code. */
int adm_top_run(const char *socket_path, double interval, int count);

#endif
