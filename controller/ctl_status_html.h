/* ctl_status_html: the status page for people.
 *
 * Renders the controller's status document (the same JSON the status
 * service and `spawnctl status --json` serve) as one self-contained HTML5
 * page: inline CSS, no scripts, no external assets. Every string taken from
 * the document is HTML-escaped, so an app name or a reload traceback cannot
 * inject markup. Members missing from the document (or of the wrong type)
 * are shown as "-"; the page never fails because the document is partial. */
#ifndef CTL_STATUS_HTML_H
#define CTL_STATUS_HTML_H

#include <jansson.h>

/* Returns the page as a NUL-terminated malloc'd string the caller frees, or
 * NULL when memory runs out. `doc` is borrowed and only read; NULL or a
 * non-object renders a page of dashes with a red "UNKNOWN" state. With
 * refresh_seconds > 0 the page asks the browser to reload itself every that
 * many seconds (<meta http-equiv="refresh">); with 0 or less it does not. */
char *ctl_status_html(json_t *doc, int refresh_seconds);

#endif
