/* Unit tests for controller/ctl_bind.h: what a --bind address means. */
#include "ctl_bind.h"
#include "unit.h"

static void expect_tcp(const char *spec, const char *host, int port, const char *file, int line)
{
    ctl_bind_t b;
    char err[256] = "";
    if (ctl_bind_parse(spec, &b, err, sizeof err) != 0) {
        unit_fail(file, line, "'%s' rejected: %s", spec, err);
        return;
    }
    if (b.kind != CTL_BIND_TCP || strcmp(b.host, host) != 0 || b.port != port)
        unit_fail(file, line, "'%s': kind %d host '%s' port %d, want TCP '%s' %d", spec, b.kind,
                  b.host, b.port, host, port);
}
#define EXPECT_TCP(spec, host, port) expect_tcp((spec), (host), (port), __FILE__, __LINE__)

static void expect_bad(const char *spec, const char *file, int line)
{
    ctl_bind_t b;
    char err[256] = "";
    if (ctl_bind_parse(spec, &b, err, sizeof err) == 0)
        unit_fail(file, line, "'%s' accepted", spec);
    else if (!strstr(err, spec) || strchr(err, '\n'))
        unit_fail(file, line, "error for '%s' does not name it on one line: %s", spec, err);
}
#define EXPECT_BAD(spec) expect_bad((spec), __FILE__, __LINE__)

TEST(tcp_forms)
{
    EXPECT_TCP("127.0.0.1:8080", "127.0.0.1", 8080);
    EXPECT_TCP("localhost:80", "localhost", 80);
    EXPECT_TCP("[::1]:8000", "::1", 8000);
    EXPECT_TCP("[2001:db8::5]:0", "2001:db8::5", 0);
    EXPECT_TCP(":9000", "0.0.0.0", 9000);
    EXPECT_TCP("0.0.0.0:65535", "0.0.0.0", 65535);
}

TEST(unix_and_fd_forms)
{
    ctl_bind_t b;
    char err[256];
    CHECK_EQ_INT(ctl_bind_parse("unix:/run/app.sock", &b, err, sizeof err), 0);
    CHECK_EQ_INT(b.kind, CTL_BIND_UNIX);
    CHECK_EQ_STR(b.path, "/run/app.sock");
    CHECK_EQ_INT(ctl_bind_parse("unix://relative.sock", &b, err, sizeof err), 0);
    CHECK_EQ_STR(b.path, "relative.sock");
    CHECK_EQ_INT(ctl_bind_parse("fd://3", &b, err, sizeof err), 0);
    CHECK_EQ_INT(b.kind, CTL_BIND_FD);
    CHECK_EQ_INT(b.fd, 3);
}

TEST(malformed)
{
    EXPECT_BAD("");
    EXPECT_BAD("localhost");
    EXPECT_BAD("127.0.0.1:");
    EXPECT_BAD("127.0.0.1:http");
    EXPECT_BAD("127.0.0.1:65536");
    EXPECT_BAD("127.0.0.1:-1");
    EXPECT_BAD("127.0.0.1:+80");
    EXPECT_BAD("::1:80");      /* IPv6 needs brackets */
    EXPECT_BAD("[::1]80");
    EXPECT_BAD("[::1]");
    EXPECT_BAD("[]:80");
    EXPECT_BAD("[127.0.0.1]:80"); /* brackets are for IPv6 */
    EXPECT_BAD("unix:");
    EXPECT_BAD("fd://");
    EXPECT_BAD("fd://3x");
    EXPECT_BAD("fd://-1");
    char long_path[200];
    memset(long_path, 'a', sizeof long_path);
    memcpy(long_path, "unix:/", 6);
    long_path[sizeof long_path - 1] = '\0';
    ctl_bind_t b;
    char err[512];
    CHECK(ctl_bind_parse(long_path, &b, err, sizeof err) < 0);
    CHECK(strstr(err, "at most") != NULL);
}

TEST(describe)
{
    ctl_bind_t b;
    char err[256], text[300];
    ctl_bind_parse("[::1]:80", &b, err, sizeof err);
    ctl_bind_describe(&b, text, sizeof text);
    CHECK_EQ_STR(text, "http://[::1]:80");
    ctl_bind_parse(":81", &b, err, sizeof err);
    ctl_bind_describe(&b, text, sizeof text);
    CHECK_EQ_STR(text, "http://0.0.0.0:81");
    ctl_bind_parse("unix:/a/b.sock", &b, err, sizeof err);
    ctl_bind_describe(&b, text, sizeof text);
    CHECK_EQ_STR(text, "unix:/a/b.sock");
    ctl_bind_parse("fd://7", &b, err, sizeof err);
    ctl_bind_describe(&b, text, sizeof text);
    CHECK_EQ_STR(text, "fd://7");
}

int main(int argc, char **argv)
{
    unit_init(argc, argv);
    RUN(tcp_forms);
    RUN(unix_and_fd_forms);
    RUN(malformed);
    RUN(describe);
    return unit_finish();
}
