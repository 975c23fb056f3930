/* chd_accesslog: the child's access log (-l/--access-log-file,
 * --access-log-format).
 *
 * One line per answered request, in the compiled format (cmn_accessfmt.h):
 * Apache "combined" plus the request time by default. Values are escaped
 * as Apache does (`"` and `\` as `\"` `\\`, other bytes outside printable
 * ASCII as `\xHH`), so a client cannot forge or break lines.
 *
 * Lines go to the file (O_WRONLY|O_APPEND|O_CREAT, 0644), or to stdout
 * (fd 1, which --stdout may redirect) when no file is given. A path that is
 * /dev/null (the same character device) turns logging off entirely: no line
 * is even formatted.
 *
 * Whole lines only, never torn or interleaved with other processes' or
 * threads' lines: a line is formatted on the calling thread, then appended
 * under a mutex to one per-process buffer (4 KiB) that goes out in one
 * write() on the O_APPEND fd; a line that would not fit flushes the buffer
 * first, a line longer than the buffer gets its own write. A flusher thread
 * writes out what is buffered at most CHD_ACCESSLOG_FLUSH_MS after the
 * first line went in, so a quiet server's lines are not held back. On a
 * pipe or terminal a line is cut to PIPE_BUF bytes so its write is atomic;
 * on a regular file to CHD_ACCESSLOG_LINE_MAX. A cut line ends in "...".
 *
 * There is one access log per process (like the error log, cmn_log): the
 * functions below act on it. All are thread-safe and never need the GIL
 * (they never touch Python; the request hook is called with the GIL held
 * and formats without releasing it: a line costs well under a microsecond). */
#ifndef CHD_ACCESSLOG_H
#define CHD_ACCESSLOG_H

#include "chd_conn.h"
#include "chd_response.h"
#include "cmn_accessfmt.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define CHD_ACCESSLOG_BUF 4096        /* bytes buffered before a write */
#define CHD_ACCESSLOG_LINE_MAX 16384  /* longest line on a regular file */
#define CHD_ACCESSLOG_FLUSH_MS 100    /* longest a line waits in the buffer */

/* One request as the log sees it: plain fields, no socket, so a line can be
 * formatted (and tested) from anything. Strings are not NUL-terminated
 * unless said; NULL method/target means the request line was never
 * understood (logged as "-"). */
typedef struct {
    const char *remote_addr; /* NUL-terminated */
    const char *method;      /* NUL-terminated, or NULL */
    const char *target;      /* "/path?query" */
    size_t target_len;
    unsigned http_major, http_minor;
    int status;              /* 0: none (logged as "-") */
    uint64_t body_bytes;
    time_t started;          /* wall-clock second the request began */
    uint64_t duration_us;
    int pid;
    /* A request header by case-insensitive name (Referer, User-Agent, the
     * format's {Name}i): its value and length, or NULL when absent. */
    const char *(*req_header)(const void *ctx, const char *name, size_t *len);
    const void *req_ctx;
    /* The response head as sent ("HTTP/1.1 200 OK\r\nName: value\r\n...");
     * may be NULL. {Name}o atoms are looked up in it. */
    const char *resp_head;
    size_t resp_head_len;
} chd_accesslog_entry_t;

/* Formats one line for e, ending in '\n', into out (cap >= 8 bytes); a
 * line longer than cap is cut and ends in "...\n". Returns its length.
 * The time is local time with its UTC offset, cached per thread and
 * second. Pure: no I/O, no lock. */
size_t chd_accesslog_format_line(const cmn_accessfmt_t *fmt, const chd_accesslog_entry_t *e,
                                 char *out, size_t cap);

/* Opens the process's access log: `path` (NULL: stdout) in `format` (NULL:
 * the default), and starts the flusher thread. Returns 0, or -errno with
 * one line in err (a bad format, a file that cannot be opened). A path on
 * /dev/null leaves logging off (returns 0). */
int chd_accesslog_start(const char *path, const char *format, char *err, size_t errlen);

/* True when lines are being written (started, and not to /dev/null).
 * Cheap: the hooks below check it first. */
bool chd_accesslog_enabled(void);

/* Formats e and appends the line. */
void chd_accesslog_write(const chd_accesslog_entry_t *e);

/* The hook for a request the app answered: conn's request (running, its
 * start time in conn->request_started) and the response. Not logged when
 * --timeout answered the request instead (chd_accesslog_overruled). */
void chd_accesslog_response(const chd_conn_t *conn, const chd_response_t *resp);

/* A running request the server answered in the app's place (--timeout's
 * 504, chd_watchdog.c): like chd_accesslog_response, with the status,
 * body bytes and head sent. Any thread. */
void chd_accesslog_overruled(const chd_conn_t *conn, int status, uint64_t body_bytes,
                             const char *head, size_t head_len);

/* The hook for a request the server answered itself (chd_conn_fail):
 * status, body bytes and the head sent. Not logged when the client sent
 * nothing; the request line is "-" unless it was complete. The time is
 * counted from the end of the connection's previous request (or accept). */
void chd_accesslog_rejected(const chd_conn_t *conn, int status, uint64_t body_bytes,
                            const char *head, size_t head_len);

/* Writes out the buffered lines now. */
void chd_accesslog_flush(void);

/* Log rotation: flushes, then opens the path again (a new file after
 * logrotate renamed the old one). For stdout only flushes (cmn_logfile
 * reopens fd 1 itself). Returns 0 or -errno (the old file stays in use). */
int chd_accesslog_reopen(void);

/* Flushes, stops the flusher thread and closes the file. Logging is off
 * afterwards; chd_accesslog_start may be called again. */
void chd_accesslog_stop(void);

#endif
