/* cmn_log: the error log shared by the controller, the children and spawnctl.
 *
 * Every line has the form `[YYYY-MM-DD HH:MM:SS +ZZZZ] [pid] [LEVEL] message`
 * and reaches the log fd (stderr by default) in one write(), so lines from
 * several processes and threads never interleave mid-line. Safe to call from
 * any thread; never needs the GIL. */
#ifndef CMN_LOG_H
#define CMN_LOG_H

#include <stddef.h>

typedef enum {
    CMN_LOG_DEBUG = 0,
    CMN_LOG_INFO,
    CMN_LOG_WARNING,
    CMN_LOG_ERROR,
    CMN_LOG_CRITICAL,
} cmn_log_level_t;

/* Lines below `level` are dropped. Default CMN_LOG_INFO. */
void cmn_log_set_level(cmn_log_level_t level);

/* Parses "debug", "info", "warning", "error", "critical". Returns 0 and sets
 * *out, or -EINVAL. */
int cmn_log_parse_level(const char *name, cmn_log_level_t *out);

/* Writes one formatted line. A message longer than the line buffer is cut. */
void cmn_log(cmn_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Writes a block of text (a Python traceback, say) under one log line
 * header; every line of `text` is kept as it is. */
void cmn_log_block(cmn_log_level_t level, const char *title, const char *text, size_t len);

#define cmn_debug(...) cmn_log(CMN_LOG_DEBUG, __VA_ARGS__)
#define cmn_info(...) cmn_log(CMN_LOG_INFO, __VA_ARGS__)
#define cmn_warning(...) cmn_log(CMN_LOG_WARNING, __VA_ARGS__)
#define cmn_error(...) cmn_log(CMN_LOG_ERROR, __VA_ARGS__)

#endif
