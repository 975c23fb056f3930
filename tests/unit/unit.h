/* unit.h: the smallest test harness that does the job.
 *
 * A test binary defines test functions with TEST(name), runs them from main
 * with RUN(name), and ends with `return unit_finish();`. Inside a test the
 * CHECK* macros record a failure (with file, line and the values seen) and
 * carry on, so one run shows every broken expectation. A test passes when
 * none of its checks failed; the counts are of tests, not of checks.
 *
 * unit_finish() prints one line `test_xxx: N passed, N failed` (the name is
 * the binary's) and returns the exit status: 0, or 1 if anything failed.
 * tests/run-unit.sh reads that line from every binary and adds them up.
 *
 * Everything here is static: include this header from exactly one .c file
 * per binary. */
#ifndef UNIT_H
#define UNIT_H

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A hung test (a blocking recv, say) is killed after this many seconds and
 * counts as a crash. */
#define UNIT_TIMEOUT_SECONDS 60

static const char *unit_binary = "test";
static const char *unit_current = "";
static int unit_passed, unit_failed;
static bool unit_current_failed;

/* Records one failed check; prints where and why. */
__attribute__((format(printf, 3, 4))) static void unit_fail(const char *file, int line,
                                                            const char *fmt, ...);

static void unit_fail(const char *file, int line, const char *fmt, ...)
{
    unit_current_failed = true;
    printf("  FAIL %s (%s:%d): ", unit_current, file, line);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

/* Prints at most max bytes of s, escaping what is not printable. */
static void unit_print_bytes(const char *s, size_t len)
{
    size_t max = len > 200 ? 200 : len;
    putchar('"');
    for (size_t i = 0; i < max; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\r')
            printf("\\r");
        else if (c == '\n')
            printf("\\n");
        else if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            printf("\\x%02x", c);
        else
            putchar(c);
    }
    putchar('"');
    if (max < len)
        printf("...(%zu bytes)", len);
}

/* Unused in a binary that makes no CHECK_MEM/CHECK_EQ_STR checks. */
__attribute__((unused)) static void unit_fail_mem(const char *file, int line, const char *expr,
                                                  const char *got, size_t got_len, const char *want,
                                                  size_t want_len)
{
    unit_fail(file, line, "%s", expr);
    printf("       got  ");
    if (got)
        unit_print_bytes(got, got_len);
    else
        printf("NULL");
    printf("\n       want ");
    if (want)
        unit_print_bytes(want, want_len);
    else
        printf("NULL");
    printf("\n");
    fflush(stdout);
}

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            unit_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                                     \
    } while (0)

#define CHECK_EQ_INT(got, want)                                                                    \
    do {                                                                                           \
        long long unit_g_ = (long long)(got), unit_w_ = (long long)(want);                         \
        if (unit_g_ != unit_w_)                                                                    \
            unit_fail(__FILE__, __LINE__, "%s == %s: got %lld, want %lld", #got, #want, unit_g_,  \
                      unit_w_);                                                                    \
    } while (0)

/* Both NUL-terminated; either may be NULL (equal only if both are). */
#define CHECK_EQ_STR(got, want)                                                                    \
    do {                                                                                           \
        const char *unit_g_ = (got), *unit_w_ = (want);                                            \
        if (!unit_g_ || !unit_w_ ? unit_g_ != unit_w_ : strcmp(unit_g_, unit_w_) != 0)            \
            unit_fail_mem(__FILE__, __LINE__, #got " == " #want, unit_g_,                          \
                          unit_g_ ? strlen(unit_g_) : 0, unit_w_, unit_w_ ? strlen(unit_w_) : 0); \
    } while (0)

/* got_len bytes at got equal the NUL-terminated string want (whose length
 * must be got_len). */
#define CHECK_MEM(got, got_len, want)                                                              \
    do {                                                                                           \
        const char *unit_g_ = (const char *)(got), *unit_w_ = (want);                              \
        size_t unit_gl_ = (size_t)(got_len), unit_wl_ = strlen(unit_w_);                           \
        if (unit_gl_ != unit_wl_ || (unit_gl_ && memcmp(unit_g_, unit_w_, unit_gl_) != 0))         \
            unit_fail_mem(__FILE__, __LINE__, #got " == " #want, unit_g_, unit_gl_, unit_w_,       \
                          unit_wl_);                                                               \
    } while (0)

/* Like CHECK_MEM for an expected value that may hold NUL bytes. */
#define CHECK_MEM_N(got, got_len, want, want_len)                                                  \
    do {                                                                                           \
        const char *unit_g_ = (const char *)(got), *unit_w_ = (const char *)(want);                \
        size_t unit_gl_ = (size_t)(got_len), unit_wl_ = (size_t)(want_len);                       \
        if (unit_gl_ != unit_wl_ || (unit_gl_ && memcmp(unit_g_, unit_w_, unit_gl_) != 0))         \
            unit_fail_mem(__FILE__, __LINE__, #got " == " #want, unit_g_, unit_gl_, unit_w_,       \
                          unit_wl_);                                                               \
    } while (0)

#define TEST(name) static void name(void)

#define RUN(name)                                                                                  \
    do {                                                                                           \
        unit_current = #name;                                                                      \
        unit_current_failed = false;                                                               \
        name();                                                                                    \
        if (unit_current_failed)                                                                   \
            unit_failed++;                                                                         \
        else                                                                                       \
            unit_passed++;                                                                         \
        fflush(stdout);                                                                            \
    } while (0)

/* Call first in main: names the binary, arms the hang guard. */
static void unit_init(int argc, char **argv)
{
    if (argc > 0 && argv[0]) {
        const char *slash = strrchr(argv[0], '/');
        unit_binary = slash ? slash + 1 : argv[0];
    }
    signal(SIGPIPE, SIG_IGN);
    alarm(UNIT_TIMEOUT_SECONDS);
}

/* Prints the binary's summary line; returns the exit status for main. */
static int unit_finish(void)
{
    printf("%s: %d passed, %d failed\n", unit_binary, unit_passed, unit_failed);
    fflush(stdout);
    return unit_failed ? 1 : 0;
}

#endif
