/* Unit tests for common/cmn_accessfmt.h (compiling a format) and
 * child/chd_accesslog.h (formatting lines, buffering, reopening). */
#include "chd_accesslog.h"
#include "cmn_accessfmt.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>

/* 2026-12-01 02:16:39 UTC */
#define T0 ((time_t)1796091399)

typedef struct {
    const char *names[4], *values[4];
} headers_t;

static const char *lookup(const void *ctx, const char *name, size_t *len)
{
    const headers_t *h = ctx;
    for (int i = 0; i < 4 && h->names[i]; i++) {
        if (strcasecmp(h->names[i], name) == 0) {
            *len = strlen(h->values[i]);
            return h->values[i];
        }
    }
    return NULL;
}

static headers_t browser = {{"Referer", "User-Agent", "X-Request-Id"},
                            {"http://ref.example/page", "Mozilla/5.0 (X11)", "abc-123"}};

static chd_accesslog_entry_t sample(void)
{
    static const char target[] = "/path/x?q=1&r=2";
    return (chd_accesslog_entry_t){
        .remote_addr = "10.0.0.7", .method = "GET", .target = target,
        .target_len = sizeof target - 1, .http_major = 1, .http_minor = 1, .status = 200,
        .body_bytes = 1234, .started = T0, .duration_us = 412, .pid = 4242,
        .req_header = lookup, .req_ctx = &browser,
        .resp_head = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Empty:\r\n\r\n",
        .resp_head_len = 54,
    };
}

/* Formats e with `format` into a static buffer of `cap` bytes. */
static const char *line_for(const char *format, const chd_accesslog_entry_t *e, size_t cap)
{
    static char out[20000];
    cmn_accessfmt_t fmt;
    char err[200];
    if (cmn_accessfmt_compile(format, &fmt, err, sizeof err) < 0) {
        snprintf(out, sizeof out, "compile failed: %s", err);
        return out;
    }
    size_t n = chd_accesslog_format_line(&fmt, e, out, cap);
    out[n] = '\0';
    cmn_accessfmt_free(&fmt);
    return out;
}

TEST(compile_default_and_literals)
{
    cmn_accessfmt_t fmt;
    char err[200];
    CHECK_EQ_INT(cmn_accessfmt_compile(NULL, &fmt, err, sizeof err), 0);
    CHECK_EQ_INT(fmt.nops, 19);
    CHECK_EQ_INT(fmt.ops[0].kind, CMN_AF_HOST);
    CHECK_EQ_INT(fmt.ops[1].kind, CMN_AF_LITERAL);
    CHECK_EQ_STR(cmn_af_text(&fmt, &fmt.ops[1]), " ");
    CHECK_EQ_INT(fmt.ops[18].kind, CMN_AF_DECIMAL);
    cmn_accessfmt_free(&fmt);
    CHECK_EQ_INT(cmn_accessfmt_compile("100%% %({X-Id}i)s/%({content-type}o)s", &fmt, err, sizeof err), 0);
    CHECK_EQ_INT(fmt.nops, 4);
    CHECK_EQ_STR(cmn_af_text(&fmt, &fmt.ops[0]), "100% ");
    CHECK_EQ_INT(fmt.ops[1].kind, CMN_AF_REQ_HEADER);
    CHECK_EQ_STR(cmn_af_text(&fmt, &fmt.ops[1]), "X-Id");
    CHECK_EQ_INT(fmt.ops[3].kind, CMN_AF_RESP_HEADER);
    CHECK_EQ_STR(cmn_af_text(&fmt, &fmt.ops[3]), "content-type");
    cmn_accessfmt_free(&fmt);
    CHECK_EQ_INT(cmn_accessfmt_compile("", &fmt, err, sizeof err), 0);
    CHECK_EQ_INT(fmt.nops, 0);
    cmn_accessfmt_free(&fmt);
}

/* The format is rejected with one line that contains `want`. */
static void expect_bad(const char *format, const char *want, int line)
{
    cmn_accessfmt_t fmt;
    char err[200] = "";
    int rc = cmn_accessfmt_compile(format, &fmt, err, sizeof err);
    if (rc != -EINVAL)
        unit_fail(__FILE__, line, "%s: rc %d, want -EINVAL", format, rc);
    if (!strstr(err, want) || strchr(err, '\n'))
        unit_fail(__FILE__, line, "%s: error \"%s\" lacks \"%s\"", format, err, want);
    if (rc == 0)
        cmn_accessfmt_free(&fmt);
}

TEST(compile_rejects_unknown_atoms)
{
    expect_bad("%(h)s %(x)s", "unknown atom '%(x)s'", __LINE__);
    expect_bad("%(hh)s", "'%(hh)s'", __LINE__);
    expect_bad("%({X-Id}e)s", "'%({X-Id}e)s'", __LINE__);
    expect_bad("%({}i)s", "unknown atom", __LINE__);
    expect_bad("%({a b}i)s", "unknown atom", __LINE__);
    expect_bad("%(h)d", "must end in ')s'", __LINE__);
    expect_bad("%(h", "must end in ')s'", __LINE__);
    expect_bad("50% off", "doubled", __LINE__);
    expect_bad("end%", "doubled", __LINE__);
    expect_bad("%(\n)s", "'%(?)s'", __LINE__); /* shown on one line */
}

TEST(default_line)
{
    setenv("TZ", "UTC", 1);
    tzset();
    chd_accesslog_entry_t e = sample();
    CHECK_EQ_STR(line_for(NULL, &e, 4096),
                 "10.0.0.7 - - [01/Dec/2026:02:16:39 +0000] \"GET /path/x?q=1&r=2 HTTP/1.1\" 200 1234 "
                 "\"http://ref.example/page\" \"Mozilla/5.0 (X11)\" 0.000412\n");
    e.body_bytes = 0;
    e.req_header = NULL;
    e.http_minor = 0;
    e.duration_us = 12345678;
    CHECK_EQ_STR(line_for(NULL, &e, 4096),
                 "10.0.0.7 - - [01/Dec/2026:02:16:39 +0000] \"GET /path/x?q=1&r=2 HTTP/1.0\" 200 - "
                 "\"-\" \"-\" 12.345678\n");
}

TEST(local_time_offset)
{
    setenv("TZ", "EST5", 1);
    tzset();
    chd_accesslog_entry_t e = sample();
    e.started = T0 + 3600; /* a second the per-thread cache has not seen */
    CHECK_EQ_STR(line_for("%(t)s", &e, 4096), "[30/Nov/2026:22:16:39 -0500]\n");
    setenv("TZ", "UTC", 1);
    tzset();
    e.started = T0 + 7200;
    CHECK_EQ_STR(line_for("%(t)s", &e, 4096), "[01/Dec/2026:04:16:39 +0000]\n");
}

TEST(every_atom)
{
    setenv("TZ", "UTC", 1);
    tzset();
    chd_accesslog_entry_t e = sample();
    e.duration_us = 2345678;
    CHECK_EQ_STR(line_for("%(h)s|%(l)s|%(u)s|%(m)s|%(U)s|%(q)s|%(H)s|%(s)s|%(B)s|%(b)s", &e, 4096),
                 "10.0.0.7|-|-|GET|/path/x|q=1&r=2|HTTP/1.1|200|1234|1234\n");
    CHECK_EQ_STR(line_for("%(f)s|%(a)s|%(T)s|%(M)s|%(D)s|%(L)s|%(p)s", &e, 4096),
                 "http://ref.example/page|Mozilla/5.0 (X11)|2|2345|2345678|2.345678|4242\n");
    CHECK_EQ_STR(line_for("%({x-request-id}i)s %({X-Missing}i)s", &e, 4096), "abc-123 -\n");
    CHECK_EQ_STR(line_for("%({content-type}o)s|%({X-Empty}o)s|%({Missing}o)s", &e, 4096),
                 "text/html||-\n");
    e.resp_head = NULL;
    CHECK_EQ_STR(line_for("%({Content-Type}o)s", &e, 4096), "-\n");
    static const char bare[] = "/only";
    e.target = bare;
    e.target_len = 5;
    CHECK_EQ_STR(line_for("%(U)s|%(q)s|%(r)s", &e, 4096), "/only||GET /only HTTP/1.1\n");
}

TEST(unknown_request_line)
{
    chd_accesslog_entry_t e = sample();
    e.method = NULL;
    e.target = NULL;
    e.target_len = 0;
    e.status = 400;
    CHECK_EQ_STR(line_for("\"%(r)s\" %(m)s %(U)s %(q)s %(H)s %(s)s", &e, 4096),
                 "\"-\" - -  - 400\n"); /* an empty query, as QUERY_STRING */
    e.status = 0;
    CHECK_EQ_STR(line_for("%(s)s", &e, 4096), "-\n");
}

TEST(values_are_escaped)
{
    headers_t evil = {{"User-Agent", "Referer"}, {"a\"b\\c\x01\n\x7f\xff", "x\" 200 1 \"y"}};
    chd_accesslog_entry_t e = sample();
    e.req_ctx = &evil;
    static const char target[] = "/p\"a th\r\n";
    e.target = target;
    e.target_len = sizeof target - 1;
    CHECK_EQ_STR(line_for("\"%(a)s\" \"%(f)s\" \"%(r)s\"", &e, 4096),
                 "\"a\\\"b\\\\c\\x01\\x0a\\x7f\\xff\" \"x\\\" 200 1 \\\"y\" "
                 "\"GET /p\\\"a th\\x0d\\x0a HTTP/1.1\"\n");
}

TEST(long_lines_are_cut)
{
    chd_accesslog_entry_t e = sample();
    const char *line = line_for(NULL, &e, 40);
    CHECK_EQ_INT(strlen(line), 40);
    CHECK_EQ_STR(line, "10.0.0.7 - - [01/Dec/2026:02:16:39 +...\n");
    /* an escape sequence is never split: the cut falls before it */
    headers_t ctl = {{"User-Agent"}, {"\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01"}};
    e.req_ctx = &ctl;
    line = line_for("%(a)s", &e, 16);
    CHECK_EQ_STR(line, "\\x01\\x01\\x01...\n"); /* 12 + 4 for "...\n" */
    CHECK_EQ_INT(strlen(line), 16);
}

/* ------------------------------------------------------------ the log */

static char tmpdir[] = "/tmp/test_accesslog.XXXXXX";

static char *path_in_tmp(const char *name)
{
    static char path[4][256];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, 256, "%s/%s", tmpdir, name);
    return p;
}

static char *slurp(const char *path, size_t *len)
{
    static char data[1 << 24];
    int fd = open(path, O_RDONLY);
    ssize_t n = 0;
    *len = 0;
    while (fd >= 0 && *len < sizeof data - 1 && (n = read(fd, data + *len, sizeof data - 1 - *len)) > 0)
        *len += (size_t)n;
    if (fd >= 0)
        close(fd);
    data[*len] = '\0';
    return data;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

TEST(file_gets_whole_lines)
{
    char err[200];
    const char *path = path_in_tmp("a.log");
    CHECK_EQ_INT(chd_accesslog_start(path, "%(s)s %(h)s", err, sizeof err), 0);
    CHECK(chd_accesslog_enabled());
    chd_accesslog_entry_t e = sample();
    for (int i = 0; i < 3; i++)
        chd_accesslog_write(&e);
    size_t len;
    CHECK_EQ_INT(strlen(slurp(path, &len)), 0); /* still buffered */
    chd_accesslog_stop();
    CHECK(!chd_accesslog_enabled());
    CHECK_EQ_STR(slurp(path, &len), "200 10.0.0.7\n200 10.0.0.7\n200 10.0.0.7\n");
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == (0644 & ~umask(022)));
    chd_accesslog_write(&e); /* after stop: nothing, no crash */
    CHECK_EQ_INT(count_lines(slurp(path, &len)), 3);
}

TEST(flusher_writes_within_its_interval)
{
    char err[200];
    const char *path = path_in_tmp("b.log");
    CHECK_EQ_INT(chd_accesslog_start(path, "%(p)s", err, sizeof err), 0);
    chd_accesslog_entry_t e = sample();
    chd_accesslog_write(&e);
    size_t len = 0;
    for (int i = 0; i < 50 && len == 0; i++) {
        usleep(10000);
        slurp(path, &len);
    }
    CHECK_EQ_STR(slurp(path, &len), "4242\n");
    chd_accesslog_write(&e); /* a second batch after the first went out */
    usleep(3 * CHD_ACCESSLOG_FLUSH_MS * 1000);
    CHECK_EQ_STR(slurp(path, &len), "4242\n4242\n");
    chd_accesslog_stop();
}

TEST(full_buffer_and_long_lines)
{
    char err[200];
    const char *path = path_in_tmp("c.log");
    char ua[6001];
    memset(ua, 'u', 6000);
    ua[6000] = '\0';
    headers_t big = {{"User-Agent"}, {ua}};
    CHECK_EQ_INT(chd_accesslog_start(path, "%(a)s", err, sizeof err), 0);
    chd_accesslog_entry_t e = sample();
    chd_accesslog_write(&e); /* 18 bytes buffered */
    e.req_ctx = &big;
    chd_accesslog_write(&e); /* longer than the buffer: flushes, then its own write */
    size_t len;
    const char *data = slurp(path, &len);
    CHECK_EQ_INT(len, 18 + 6001);
    CHECK(strncmp(data, "Mozilla/5.0 (X11)\nuuu", 21) == 0);
    chd_accesslog_stop();
}

typedef struct {
    int id, lines;
} writer_t;

static void *writer_main(void *arg)
{
    writer_t *w = arg;
    char ua[600], id[16];
    snprintf(id, sizeof id, "%d", w->id);
    headers_t h = {{"User-Agent", "X-Id"}, {ua, id}};
    for (int i = 0; i < w->lines; i++) {
        size_t n = 50 + (size_t)(i * 37 + w->id * 101) % 500;
        memset(ua, 'a' + w->id, n);
        ua[n] = '\0';
        chd_accesslog_entry_t e = sample();
        e.req_ctx = &h;
        chd_accesslog_write(&e);
    }
    return NULL;
}

TEST(threads_never_interleave)
{
    char err[200];
    const char *path = path_in_tmp("d.log");
    CHECK_EQ_INT(chd_accesslog_start(path, "<%({X-Id}i)s %(a)s>", err, sizeof err), 0);
    pthread_t t[8];
    writer_t w[8];
    for (int i = 0; i < 8; i++) {
        w[i] = (writer_t){i, 3000};
        pthread_create(&t[i], NULL, writer_main, &w[i]);
    }
    for (int i = 0; i < 8; i++)
        pthread_join(t[i], NULL);
    chd_accesslog_stop();
    size_t len;
    char *data = slurp(path, &len);
    int lines = 0, bad = 0;
    for (char *s = data, *nl; (nl = strchr(s, '\n')); s = nl + 1, lines++) {
        int id = s[1] - '0';
        bool ok = s[0] == '<' && id >= 0 && id < 8 && s[2] == ' ' && nl[-1] == '>';
        for (char *c = s + 3; ok && c < nl - 1; c++)
            ok = *c == 'a' + id;
        bad += !ok;
    }
    CHECK_EQ_INT(lines, 8 * 3000);
    CHECK_EQ_INT(bad, 0);
}

TEST(reopen_after_rotation)
{
    char err[200];
    const char *path = path_in_tmp("e.log"), *rotated = path_in_tmp("e.log.1");
    CHECK_EQ_INT(chd_accesslog_start(path, "%(s)s", err, sizeof err), 0);
    chd_accesslog_entry_t e = sample();
    chd_accesslog_write(&e);
    CHECK_EQ_INT(rename(path, rotated), 0);
    e.status = 201;
    chd_accesslog_write(&e); /* buffered before the reopen: belongs to the old file */
    CHECK_EQ_INT(chd_accesslog_reopen(), 0);
    e.status = 202;
    chd_accesslog_write(&e);
    chd_accesslog_stop();
    size_t len;
    CHECK_EQ_STR(slurp(rotated, &len), "200\n201\n");
    CHECK_EQ_STR(slurp(path, &len), "202\n");
}

TEST(dev_null_turns_logging_off)
{
    char err[200];
    CHECK_EQ_INT(chd_accesslog_start("/dev/null", NULL, err, sizeof err), 0);
    CHECK(!chd_accesslog_enabled());
    chd_accesslog_entry_t e = sample();
    chd_accesslog_write(&e);
    CHECK_EQ_INT(chd_accesslog_reopen(), 0);
    chd_accesslog_stop();
    const char *link = path_in_tmp("null-link");
    CHECK_EQ_INT(symlink("/dev/null", link), 0);
    CHECK_EQ_INT(chd_accesslog_start(link, NULL, err, sizeof err), 0);
    CHECK(!chd_accesslog_enabled());
    chd_accesslog_stop();
}

TEST(start_errors)
{
    char err[200] = "";
    CHECK_EQ_INT(chd_accesslog_start(path_in_tmp("no/such/dir.log"), NULL, err, sizeof err),
                 -ENOENT);
    CHECK(strstr(err, "no/such/dir.log") != NULL);
    CHECK(!chd_accesslog_enabled());
    CHECK_EQ_INT(chd_accesslog_start(path_in_tmp("f.log"), "%(zz)s", err, sizeof err), -EINVAL);
    CHECK(strstr(err, "--access-log-format") && strstr(err, "%(zz)s"));
    CHECK(!chd_accesslog_enabled());
}

TEST(stdout_pipe_lines_fit_pipe_buf)
{
    int p[2];
    CHECK_EQ_INT(pipe(p), 0);
    fcntl(p[0], F_SETPIPE_SZ, 1 << 16);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    dup2(p[1], STDOUT_FILENO);
    close(p[1]);
    char err[200], ua[6001];
    memset(ua, 'u', 6000);
    ua[6000] = '\0';
    headers_t big = {{"User-Agent"}, {ua}};
    int rc = chd_accesslog_start(NULL, "%(a)s", err, sizeof err);
    chd_accesslog_entry_t e = sample();
    e.req_ctx = &big;
    chd_accesslog_write(&e);
    chd_accesslog_stop();
    dup2(saved, STDOUT_FILENO);
    close(saved);
    CHECK_EQ_INT(rc, 0);
    static char data[8192];
    ssize_t n = read(p[0], data, sizeof data);
    close(p[0]);
    CHECK_EQ_INT(n, PIPE_BUF);
    CHECK(n == PIPE_BUF && memcmp(data + PIPE_BUF - 4, "...\n", 4) == 0);
}

int main(int argc, char **argv)
{
    unit_init(argc, argv);
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(compile_default_and_literals);
    RUN(compile_rejects_unknown_atoms);
    RUN(default_line);
    RUN(local_time_offset);
    RUN(every_atom);
    RUN(unknown_request_line);
    RUN(values_are_escaped);
    RUN(long_lines_are_cut);
    RUN(file_gets_whole_lines);
    RUN(flusher_writes_within_its_interval);
    RUN(full_buffer_and_long_lines);
    RUN(threads_never_interleave);
    RUN(reopen_after_rotation);
    RUN(dev_null_turns_logging_off);
    RUN(start_errors);
    RUN(stdout_pipe_lines_fit_pipe_buf);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return unit_finish();
}
