/* Unit tests for common/cmn_log.h. Log output goes to stderr; each test
 * points stderr at a pipe for the duration and reads back what came. */
#include "cmn_log.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <regex.h>

static int saved_stderr = -1;
static int capture_pipe[2] = {-1, -1};

/* Sends stderr into a pipe until capture_end(). */
static void capture_begin(void)
{
    fflush(stderr);
    if (pipe(capture_pipe) < 0) {
        unit_fail(__FILE__, __LINE__, "pipe: %s", strerror(errno));
        return;
    }
    fcntl(capture_pipe[0], F_SETFL, O_NONBLOCK);
    saved_stderr = dup(STDERR_FILENO);
    dup2(capture_pipe[1], STDERR_FILENO);
}

/* Restores stderr; returns what was written (malloc'd, NUL-terminated). */
static char *capture_end(size_t *len_out)
{
    fflush(stderr);
    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);
    close(capture_pipe[1]);
    size_t cap = 1024, len = 0;
    char *text = malloc(cap);
    for (;;) {
        if (cap - len < 512)
            text = realloc(text, cap *= 2);
        ssize_t n = read(capture_pipe[0], text + len, cap - len - 1);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(capture_pipe[0]);
    text[len] = '\0';
    if (len_out)
        *len_out = len;
    return text;
}

/* The header every line starts with, for `level`, as an extended regex. */
static void header_regex(char *buf, size_t cap, const char *level)
{
    snprintf(buf, cap,
             "^\\[[0-9]{4}-[01][0-9]-[0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9] [+-][0-9]{4}\\] "
             "\\[%d\\] \\[%s\\] ",
             (int)getpid(), level);
}

static bool matches(const char *text, const char *pattern)
{
    regex_t re;
    if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0) {
        unit_fail(__FILE__, __LINE__, "bad regex %s", pattern);
        return false;
    }
    bool ok = regexec(&re, text, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

#define CHECK_MATCH(text, pattern)                                                                 \
    do {                                                                                           \
        if (!matches((text), (pattern)))                                                           \
            unit_fail(__FILE__, __LINE__, "%s does not match /%s/", #text, pattern);               \
    } while (0)

static int count_char(const char *s, char c)
{
    int n = 0;
    for (; *s; s++)
        n += *s == c;
    return n;
}

TEST(parse_level_names)
{
    static const struct {
        const char *name;
        cmn_log_level_t level;
    } ok[] = {
        {"debug", CMN_LOG_DEBUG},     {"info", CMN_LOG_INFO},   {"warning", CMN_LOG_WARNING},
        {"error", CMN_LOG_ERROR},     {"critical", CMN_LOG_CRITICAL},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        cmn_log_level_t level = (cmn_log_level_t)99;
        CHECK_EQ_INT(cmn_log_parse_level(ok[i].name, &level), 0);
        CHECK_EQ_INT(level, ok[i].level);
    }
    const char *bad[] = {"", "warn", "verbose", "info ", "debugx", "err", "5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cmn_log_level_t level = CMN_LOG_ERROR;
        int rc = cmn_log_parse_level(bad[i], &level);
        if (rc != -EINVAL)
            unit_fail(__FILE__, __LINE__, "parse_level(\"%s\") = %d, want -EINVAL", bad[i], rc);
        CHECK_EQ_INT(level, CMN_LOG_ERROR); /* untouched */
    }
}

TEST(line_format)
{
    char pattern[256], full[512];
    capture_begin();
    cmn_info("hello %d %s", 42, "world");
    char *out = capture_end(NULL);
    header_regex(pattern, sizeof pattern, "INFO");
    snprintf(full, sizeof full, "%shello 42 world\n$", pattern);
    CHECK_MATCH(out, full);
    CHECK_EQ_INT(count_char(out, '\n'), 1);
    free(out);
}

TEST(level_names_in_lines)
{
    static const struct {
        cmn_log_level_t level;
        const char *name;
    } levels[] = {
        {CMN_LOG_DEBUG, "DEBUG"}, {CMN_LOG_INFO, "INFO"},         {CMN_LOG_WARNING, "WARNING"},
        {CMN_LOG_ERROR, "ERROR"}, {CMN_LOG_CRITICAL, "CRITICAL"},
    };
    cmn_log_set_level(CMN_LOG_DEBUG);
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        char pattern[256], full[512];
        capture_begin();
        cmn_log(levels[i].level, "message %zu", i);
        char *out = capture_end(NULL);
        header_regex(pattern, sizeof pattern, levels[i].name);
        snprintf(full, sizeof full, "%smessage %zu\n$", pattern, i);
        CHECK_MATCH(out, full);
        free(out);
    }
    cmn_log_set_level(CMN_LOG_INFO);
}

TEST(default_level_is_info_and_filtering)
{
    /* runs before anything changes the level... */
    capture_begin();
    cmn_debug("hidden by default");
    cmn_info("shown by default");
    char *out = capture_end(NULL);
    CHECK(strstr(out, "hidden") == NULL);
    CHECK(strstr(out, "shown by default") != NULL);
    free(out);

    cmn_log_set_level(CMN_LOG_WARNING);
    capture_begin();
    cmn_debug("d");
    cmn_info("i");
    cmn_warning("w-line");
    cmn_error("e-line");
    cmn_log(CMN_LOG_CRITICAL, "c-line");
    out = capture_end(NULL);
    CHECK_EQ_INT(count_char(out, '\n'), 3);
    CHECK(strstr(out, "[INFO]") == NULL);
    CHECK(strstr(out, "[DEBUG]") == NULL);
    CHECK(strstr(out, "[WARNING] w-line\n") != NULL);
    CHECK(strstr(out, "[ERROR] e-line\n") != NULL);
    CHECK(strstr(out, "[CRITICAL] c-line\n") != NULL);
    free(out);

    cmn_log_set_level(CMN_LOG_DEBUG);
    capture_begin();
    cmn_debug("now visible");
    out = capture_end(NULL);
    CHECK(strstr(out, "[DEBUG] now visible\n") != NULL);
    free(out);
    cmn_log_set_level(CMN_LOG_INFO);
}

TEST(long_message_is_cut_to_one_line)
{
    size_t n = 10000;
    char *big = malloc(n + 1);
    memset(big, 'x', n);
    big[n] = '\0';
    capture_begin();
    cmn_info("%s", big);
    cmn_info("after");
    size_t len = 0;
    char *out = capture_end(&len);
    CHECK_EQ_INT(count_char(out, '\n'), 2);
    char *nl = strchr(out, '\n');
    CHECK(nl != NULL);
    if (nl) {
        CHECK(nl - out < 4096);
        CHECK(nl - out > 1000);
        CHECK_EQ_INT(nl[-1], 'x');
        CHECK(strstr(nl + 1, "] after\n") != NULL);
    }
    free(out);
    free(big);
}

TEST(percent_and_empty_messages)
{
    char pattern[256], full[512];
    capture_begin();
    cmn_info("%s", "100% literal %d");
    cmn_info("%s", "");
    char *out = capture_end(NULL);
    header_regex(pattern, sizeof pattern, "INFO");
    snprintf(full, sizeof full, "%s100%% literal %%d\n", pattern);
    CHECK_MATCH(out, full);
    CHECK_EQ_INT(count_char(out, '\n'), 2);
    CHECK(strstr(out, "[INFO] \n") != NULL);
    free(out);
}

TEST(block_keeps_every_line)
{
    const char *tb = "Traceback (most recent call last):\n"
                     "  File \"app.py\", line 1, in <module>\n"
                     "    import nothing\n"
                     "ModuleNotFoundError: No module named 'nothing'\n";
    char pattern[256], full[1024];
    capture_begin();
    cmn_log_block(CMN_LOG_ERROR, "cannot import the app", tb, strlen(tb));
    size_t len = 0;
    char *out = capture_end(&len);
    header_regex(pattern, sizeof pattern, "ERROR");
    snprintf(full, sizeof full, "%scannot import the app\n", pattern);
    CHECK_MATCH(out, full);
    const char *nl = strchr(out, '\n');
    CHECK(nl != NULL);
    if (nl)
        CHECK_EQ_STR(nl + 1, tb);
    free(out);
}

TEST(block_adds_missing_final_newline)
{
    capture_begin();
    cmn_log_block(CMN_LOG_WARNING, "title", "a\nb", 3);
    cmn_log_block(CMN_LOG_WARNING, "empty", "", 0);
    char *out = capture_end(NULL);
    char pattern[256], full[512];
    header_regex(pattern, sizeof pattern, "WARNING");
    snprintf(full, sizeof full, "%stitle\na\nb\n\\[", pattern);
    CHECK_MATCH(out, full);
    CHECK(strstr(out, "] empty\n") != NULL);
    CHECK_EQ_INT(count_char(out, '\n'), 4);
    size_t len = strlen(out);
    CHECK(len > 0 && out[len - 1] == '\n');
    free(out);
}

TEST(block_is_filtered_by_level)
{
    cmn_log_set_level(CMN_LOG_ERROR);
    capture_begin();
    cmn_log_block(CMN_LOG_INFO, "quiet", "x\n", 2);
    cmn_log_block(CMN_LOG_ERROR, "loud", "y\n", 2);
    char *out = capture_end(NULL);
    CHECK(strstr(out, "quiet") == NULL);
    CHECK(strstr(out, "] loud\ny\n") != NULL);
    free(out);
    cmn_log_set_level(CMN_LOG_INFO);
}

TEST(large_block_is_kept_whole)
{
    /* bigger than one line buffer: nothing may be lost */
    size_t n = 20000;
    char *text = malloc(n);
    for (size_t i = 0; i < n; i++)
        text[i] = (i % 80 == 79) ? '\n' : (char)('a' + i % 26);
    capture_begin();
    cmn_log_block(CMN_LOG_ERROR, "big", text, n);
    size_t len = 0;
    char *out = capture_end(&len);
    const char *body = strchr(out, '\n');
    CHECK(body != NULL);
    if (body) {
        body++;
        CHECK_MEM_N(body, len - (size_t)(body - out), text, n);
    }
    free(out);
    free(text);
}

int main(int argc, char **argv)
{
    unit_init(argc, argv);
    RUN(default_level_is_info_and_filtering);
    RUN(parse_level_names);
    RUN(line_format);
    RUN(level_names_in_lines);
    RUN(long_message_is_cut_to_one_line);
    RUN(percent_and_empty_messages);
    RUN(block_keeps_every_line);
    RUN(block_adds_missing_final_newline);
    RUN(block_is_filtered_by_level);
    RUN(large_block_is_kept_whole);
    return unit_finish();
}
