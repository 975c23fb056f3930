/* cmn_log: see cmn_log.h. */
#include "cmn_log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 4096

static cmn_log_level_t min_level = CMN_LOG_INFO;

static const char *const level_names[] = {
    [CMN_LOG_DEBUG] = "DEBUG",     [CMN_LOG_INFO] = "INFO",
    [CMN_LOG_WARNING] = "WARNING", [CMN_LOG_ERROR] = "ERROR",
    [CMN_LOG_CRITICAL] = "CRITICAL",
};

void cmn_log_set_level(cmn_log_level_t level) { min_level = level; }

int cmn_log_parse_level(const char *name, cmn_log_level_t *out)
{
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
        if (strcasecmp(name, level_names[i]) == 0) {
            *out = (cmn_log_level_t)i;
            return 0;
        }
    }
    return -EINVAL;
}

/* Formats the "[time] [pid] [LEVEL] " prefix into buf; returns its length. */
static size_t format_prefix(char *buf, size_t cap, cmn_log_level_t level)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    char stamp[64];
    strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S %z", &tm);
    int n = snprintf(buf, cap, "[%s] [%d] [%s] ", stamp, (int)getpid(), level_names[level]);
    return n < 0 ? 0 : ((size_t)n < cap ? (size_t)n : cap - 1);
}

/* Writes all of buf to stderr, retrying on EINTR and short writes. */
static void write_all(const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(STDERR_FILENO, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        buf += n;
        len -= (size_t)n;
    }
}

void cmn_log(cmn_log_level_t level, const char *fmt, ...)
{
    if (level < min_level)
        return;
    int saved_errno = errno;
    char line[LOG_LINE_MAX];
    size_t len = format_prefix(line, sizeof line - 1, level);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line + len, sizeof line - 1 - len, fmt, ap);
    va_end(ap);
    if (n > 0)
        len += (size_t)n < sizeof line - 1 - len ? (size_t)n : sizeof line - 2 - len;
    line[len++] = '\n';
    write_all(line, len);
    errno = saved_errno;
}

void cmn_log_block(cmn_log_level_t level, const char *title, const char *text, size_t len)
{
    if (level < min_level)
        return;
    char head[LOG_LINE_MAX];
    size_t hlen = format_prefix(head, sizeof head, level);
    int n = snprintf(head + hlen, sizeof head - hlen, "%s\n", title);
    if (n > 0)
        hlen += (size_t)n < sizeof head - hlen ? (size_t)n : sizeof head - hlen - 1;
    int needs_newline = len > 0 && text[len - 1] != '\n';
    struct iovec iov[3] = {
        {head, hlen}, {(void *)text, len}, {(void *)"\n", needs_newline ? 1u : 0u}};
    /* One writev so the block is not interleaved with other lines when it
     * fits the pipe's atomic size; longer blocks may be split by the kernel. */
    ssize_t w;
    do
        w = writev(STDERR_FILENO, iov, 3);
    while (w < 0 && errno == EINTR);
    for (int i = 0; i < 3 && w >= 0; i++) {
        if ((size_t)w >= iov[i].iov_len) {
            w -= (ssize_t)iov[i].iov_len;
            continue;
        }
        write_all((const char *)iov[i].iov_base + w, iov[i].iov_len - (size_t)w);
        w = 0;
    }
}
