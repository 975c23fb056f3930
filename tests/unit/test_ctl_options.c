/* Unit tests for controller/ctl_options.h: the command line. */
#include "ctl_childconf.h"
#include "ctl_options.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>

/* Parses a NULL-terminated list of words (argv[0] is added). getopt may
 * permute argv, so the words are copied into a fresh array each time. */
static char *argv_store[64];

static ctl_options_result_t parse_words(ctl_config_t *cfg, char *err, size_t errlen,
                                        const char *const *words)
{
    int argc = 0;
    argv_store[argc++] = (char *)"spawning";
    for (; words[argc - 1] && argc < 63; argc++)
        argv_store[argc] = (char *)words[argc - 1];
    argv_store[argc] = NULL;
    err[0] = '\0';
    return ctl_options_parse(argc, argv_store, cfg, err, errlen);
}

#define PARSE(cfg, err, ...)                                                                       \
    parse_words((cfg), (err), sizeof(err), (const char *const[]){__VA_ARGS__, NULL})

/* Expects a usage error whose message names `option` and is one line. */
static void expect_usage(ctl_options_result_t rc, const char *err, const char *option,
                         const char *file, int line)
{
    if (rc != CTL_OPTIONS_USAGE)
        unit_fail(file, line, "result %d, want CTL_OPTIONS_USAGE", rc);
    if (!strstr(err, option))
        unit_fail(file, line, "error \"%s\" does not name %s", err, option);
    if (strchr(err, '\n'))
        unit_fail(file, line, "error \"%s\" is more than one line", err);
}
#define EXPECT_USAGE(rc, err, option) expect_usage((rc), (err), (option), __FILE__, __LINE__)

TEST(defaults)
{
    ctl_config_t cfg;
    char err[256];
    CHECK_EQ_INT(PARSE(&cfg, err, "tests.apps.hello:app"), CTL_OPTIONS_RUN);
    CHECK_EQ_STR(cfg.host, "127.0.0.1");
    CHECK_EQ_INT(cfg.port, 8080);
    CHECK_EQ_INT(cfg.threads, 4);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    CHECK_EQ_INT(cfg.processes, ncpu > 0 ? ncpu : 1);
    CHECK(cfg.deadman_timeout == 10.0);
    CHECK(cfg.graceful_timeout == 30.0);
    CHECK(cfg.chdir == NULL);
    CHECK_EQ_INT(cfg.npythonpath, 0);
    CHECK_EQ_INT(cfg.nmiddleware, 0);
    CHECK_EQ_STR(cfg.app, "tests.apps.hello:app");
    CHECK_EQ_STR(cfg.log_level, "info");
}

TEST(short_options)
{
    ctl_config_t cfg;
    char err[256];
    ctl_options_result_t rc =
        PARSE(&cfg, err, "-p", "9000", "-i", "0.0.0.0", "-s", "3", "-t", "8", "app.main");
    CHECK_EQ_INT(rc, CTL_OPTIONS_RUN);
    CHECK_EQ_INT(cfg.port, 9000);
    CHECK_EQ_STR(cfg.host, "0.0.0.0");
    CHECK_EQ_INT(cfg.processes, 3);
    CHECK_EQ_INT(cfg.threads, 8);
    CHECK_EQ_STR(cfg.app, "app.main");
    /* attached values */
    rc = PARSE(&cfg, err, "-p9001", "-t2", "-s1", "-i::1", "app");
    CHECK_EQ_INT(rc, CTL_OPTIONS_RUN);
    CHECK_EQ_INT(cfg.port, 9001);
    CHECK_EQ_INT(cfg.threads, 2);
    CHECK_EQ_INT(cfg.processes, 1);
    CHECK_EQ_STR(cfg.host, "::1");
}

TEST(long_options)
{
    ctl_config_t cfg;
    char err[256];
    ctl_options_result_t rc = PARSE(&cfg, err, "--port=9000", "--host", "::", "--processes=2",
                                    "--threads", "16", "--chdir", "/srv/app", "--log-level=debug",
                                    "--graceful-timeout", "2.5", "mysite.wsgi:application");
    CHECK_EQ_INT(rc, CTL_OPTIONS_RUN);
    if (rc != CTL_OPTIONS_RUN)
        printf("       err: %s\n", err);
    CHECK_EQ_INT(cfg.port, 9000);
    CHECK_EQ_STR(cfg.host, "::");
    CHECK_EQ_INT(cfg.processes, 2);
    CHECK_EQ_INT(cfg.threads, 16);
    CHECK_EQ_STR(cfg.chdir, "/srv/app");
    CHECK_EQ_STR(cfg.log_level, "debug");
    /* --graceful-timeout is its own value (issue 12), no longer an alias */
    CHECK(cfg.graceful_timeout == 2.5);
    CHECK(cfg.deadman_timeout == 10.0);
    CHECK_EQ_STR(cfg.app, "mysite.wsgi:application");
    rc = PARSE(&cfg, err, "--port", "0", "app");
    CHECK_EQ_INT(rc, CTL_OPTIONS_RUN);
    CHECK_EQ_INT(cfg.port, 0); /* any free port */
    rc = PARSE(&cfg, err, "--port", "65535", "app");
    CHECK_EQ_INT(rc, CTL_OPTIONS_RUN);
    CHECK_EQ_INT(cfg.port, 65535);
}

TEST(repeatable_pythonpath)
{
    ctl_config_t cfg;
    char err[256];
    ctl_options_result_t rc =
        PARSE(&cfg, err, "--pythonpath", "/a", "--pythonpath=/b", "--pythonpath", "c", "app");
    CHECK_EQ_INT(rc, CTL_OPTIONS_RUN);
    CHECK_EQ_INT(cfg.npythonpath, 3);
    if (cfg.npythonpath == 3) {
        CHECK_EQ_STR(cfg.pythonpath[0], "/a");
        CHECK_EQ_STR(cfg.pythonpath[1], "/b");
        CHECK_EQ_STR(cfg.pythonpath[2], "c");
    }
}

TEST(app_and_middleware)
{
    ctl_config_t cfg;
    char err[256];
    ctl_options_result_t rc =
        PARSE(&cfg, err, "-p", "1", "pkg.app", "pkg.mw.first", "pkg.mw:second");
    CHECK_EQ_INT(rc, CTL_OPTIONS_RUN);
    CHECK_EQ_STR(cfg.app, "pkg.app");
    CHECK_EQ_INT(cfg.nmiddleware, 2);
    if (cfg.nmiddleware == 2) {
        CHECK_EQ_STR(cfg.middleware[0], "pkg.mw.first");
        CHECK_EQ_STR(cfg.middleware[1], "pkg.mw:second");
    }
    /* "--" ends the options */
    rc = PARSE(&cfg, err, "--", "app");
    CHECK_EQ_INT(rc, CTL_OPTIONS_RUN);
    CHECK_EQ_STR(cfg.app, "app");
}

TEST(bad_values_name_the_option)
{
    ctl_config_t cfg;
    char err[256];
    ctl_options_result_t rc = PARSE(&cfg, err, "-p", "abc", "app");
    EXPECT_USAGE(rc, err, "--port");
    CHECK(strstr(err, "abc") != NULL);
    rc = PARSE(&cfg, err, "--port=70000", "app");
    EXPECT_USAGE(rc, err, "--port");
    CHECK(strstr(err, "70000") != NULL);
    rc = PARSE(&cfg, err, "--port", "-1", "app");
    EXPECT_USAGE(rc, err, "--port");
    rc = PARSE(&cfg, err, "--port", "80x", "app");
    EXPECT_USAGE(rc, err, "--port");
    rc = PARSE(&cfg, err, "--port", "", "app");
    EXPECT_USAGE(rc, err, "--port");
    rc = PARSE(&cfg, err, "--port", "99999999999999999999", "app");
    EXPECT_USAGE(rc, err, "--port");
    rc = PARSE(&cfg, err, "--threads", "1025", "app");
    EXPECT_USAGE(rc, err, "--threads");
    rc = PARSE(&cfg, err, "--threads", "0", "app"); /* green mode */
    CHECK_EQ_INT(rc, CTL_OPTIONS_RUN);
    CHECK_EQ_INT(cfg.threads, 0);
    rc = PARSE(&cfg, err, "-t", "many", "app");
    EXPECT_USAGE(rc, err, "--threads");
    rc = PARSE(&cfg, err, "--processes", "0", "app");
    EXPECT_USAGE(rc, err, "--processes");
    rc = PARSE(&cfg, err, "-s", "-3", "app");
    EXPECT_USAGE(rc, err, "--processes");
    rc = PARSE(&cfg, err, "--log-level", "verbose", "app");
    EXPECT_USAGE(rc, err, "--log-level");
    rc = PARSE(&cfg, err, "--graceful-timeout", "-1", "app");
    EXPECT_USAGE(rc, err, "--graceful-timeout");
    rc = PARSE(&cfg, err, "--graceful-timeout", "soon", "app");
    EXPECT_USAGE(rc, err, "--graceful-timeout");
    rc = PARSE(&cfg, err, "--graceful-timeout", "nan", "app");
    EXPECT_USAGE(rc, err, "--graceful-timeout");
    rc = PARSE(&cfg, err, "--host", "", "app");
    EXPECT_USAGE(rc, err, "--host");
}

TEST(unknown_options)
{
    ctl_config_t cfg;
    char err[256];
    ctl_options_result_t rc = PARSE(&cfg, err, "--nope", "app");
    EXPECT_USAGE(rc, err, "--nope");
    rc = PARSE(&cfg, err, "--nope=3", "app");
    EXPECT_USAGE(rc, err, "--nope");
    rc = PARSE(&cfg, err, "-z", "app");
    EXPECT_USAGE(rc, err, "-z");
    rc = PARSE(&cfg, err, "app", "--bogus");
    EXPECT_USAGE(rc, err, "--bogus");
}

TEST(missing_app_and_missing_values)
{
    ctl_config_t cfg;
    char err[256];
    ctl_options_result_t rc = PARSE(&cfg, err, "-p", "9000");
    EXPECT_USAGE(rc, err, "APP");
    char *alone[] = {(char *)"spawning", NULL};
    err[0] = '\0';
    rc = ctl_options_parse(1, alone, &cfg, err, sizeof err);
    EXPECT_USAGE(rc, err, "APP");
    rc = PARSE(&cfg, err, "app", "-p");
    EXPECT_USAGE(rc, err, "-p");
    rc = PARSE(&cfg, err, "app", "--port");
    EXPECT_USAGE(rc, err, "--port");
    rc = PARSE(&cfg, err, "app", "--chdir");
    EXPECT_USAGE(rc, err, "--chdir");
    rc = PARSE(&cfg, err, "app", "--pythonpath");
    EXPECT_USAGE(rc, err, "--pythonpath");
}

TEST(error_fits_a_small_buffer)
{
    ctl_config_t cfg;
    char err[16];
    memset(err, 'X', sizeof err);
    ctl_options_result_t rc = PARSE(&cfg, err, "--port", "abcdefghijklmnopqrstuvwxyz", "app");
    CHECK_EQ_INT(rc, CTL_OPTIONS_USAGE);
    CHECK(memchr(err, '\0', sizeof err) != NULL);
}

/* Runs a parse with stdout sent to a temporary file; returns the text. */
static char *parse_capturing_stdout(ctl_config_t *cfg, const char *word, ctl_options_result_t *rc)
{
    char err[256] = "";
    FILE *tmp = tmpfile();
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    dup2(fileno(tmp), STDOUT_FILENO);
    *rc = PARSE(cfg, err, word);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    long size = ftell(tmp);
    if (size <= 0) {
        fseek(tmp, 0, SEEK_END);
        size = ftell(tmp);
    }
    rewind(tmp);
    char *text = calloc(1, (size_t)(size > 0 ? size : 0) + 1);
    size_t n = fread(text, 1, (size_t)(size > 0 ? size : 0), tmp);
    text[n] = '\0';
    fclose(tmp);
    return text;
}

TEST(help_and_version)
{
    ctl_config_t cfg;
    ctl_options_result_t rc;
    char *help = parse_capturing_stdout(&cfg, "--help", &rc);
    CHECK_EQ_INT(rc, CTL_OPTIONS_EXIT_OK);
    const char *must[] = {"--host", "--port",      "--processes", "--threads",  "--chdir",
                          "--pythonpath", "--log-level", "--graceful-timeout", "--help",
                          "--version", "APP", "-p,", "-i,", "-s,", "-t,"};
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
        if (!strstr(help, must[i]))
            unit_fail(__FILE__, __LINE__, "--help does not mention %s", must[i]);
    free(help);

    char *version = parse_capturing_stdout(&cfg, "--version", &rc);
    CHECK_EQ_INT(rc, CTL_OPTIONS_EXIT_OK);
    CHECK(strncmp(version, "spawning ", 9) == 0);
    CHECK(strchr(version, '\n') != NULL);
    free(version);
}

TEST(help_wins_even_without_app)
{
    ctl_config_t cfg;
    ctl_options_result_t rc;
    free(parse_capturing_stdout(&cfg, "--help", &rc));
    CHECK_EQ_INT(rc, CTL_OPTIONS_EXIT_OK);
}

TEST(repeated_parses_are_independent)
{
    ctl_config_t cfg;
    char err[256];
    CHECK_EQ_INT(PARSE(&cfg, err, "--pythonpath", "/x", "-p", "1234", "app", "mw"),
                 CTL_OPTIONS_RUN);
    CHECK_EQ_INT(PARSE(&cfg, err, "other"), CTL_OPTIONS_RUN);
    CHECK_EQ_INT(cfg.npythonpath, 0);
    CHECK_EQ_INT(cfg.nmiddleware, 0);
    CHECK_EQ_INT(cfg.port, 8080);
    CHECK_EQ_STR(cfg.app, "other");
}

TEST(parse_after_error_in_grouped_short_options)
{
    /* "-zp" fails on 'z' while getopt is in the middle of the word; the
     * next parse of a different command line must start afresh rather
     * than resume at the stale 'p'. */
    ctl_config_t cfg;
    char err[256];
    ctl_options_result_t rc = PARSE(&cfg, err, "-zp", "9000", "app");
    EXPECT_USAGE(rc, err, "-z");
    rc = PARSE(&cfg, err, "hello:app");
    CHECK_EQ_INT(rc, CTL_OPTIONS_RUN);
    if (rc != CTL_OPTIONS_RUN)
        printf("       err: %s\n", err);
    CHECK_EQ_STR(cfg.app, "hello:app");
    CHECK_EQ_INT(cfg.port, 8080);
}

TEST(child_config_json)
{
    ctl_config_t cfg;
    char err[256];
    ctl_options_result_t rc =
        PARSE(&cfg, err, "-i", "0.0.0.0", "-p", "0", "-t", "6", "-s", "2", "--chdir", "/srv",
              "--pythonpath", "/a", "--pythonpath", "/b", "--log-level", "warning", "app:x",
              "mw.one", "mw.two");
    CHECK_EQ_INT(rc, CTL_OPTIONS_RUN);
    json_t *m = ctl_childconf_build(&cfg, cfg.host, 43210);
    CHECK(m != NULL && json_is_object(m));
    if (!m)
        return;
    CHECK_EQ_STR(json_string_value(json_object_get(m, "type")), "config");
    CHECK_EQ_STR(json_string_value(json_object_get(m, "app")), "app:x");
    json_t *mw = json_object_get(m, "middleware");
    CHECK(json_is_array(mw));
    CHECK_EQ_INT(json_array_size(mw), 2);
    CHECK_EQ_STR(json_string_value(json_array_get(mw, 0)), "mw.one");
    CHECK_EQ_STR(json_string_value(json_array_get(mw, 1)), "mw.two");
    json_t *pp = json_object_get(m, "pythonpath");
    CHECK(json_is_array(pp));
    CHECK_EQ_INT(json_array_size(pp), 2);
    CHECK_EQ_STR(json_string_value(json_array_get(pp, 0)), "/a");
    CHECK_EQ_STR(json_string_value(json_array_get(pp, 1)), "/b");
    CHECK_EQ_STR(json_string_value(json_object_get(m, "chdir")), "/srv");
    CHECK(json_is_integer(json_object_get(m, "threads")));
    CHECK_EQ_INT(json_integer_value(json_object_get(m, "threads")), 6);
    CHECK_EQ_INT(json_integer_value(json_object_get(m, "processes")), 2);
    CHECK_EQ_STR(json_string_value(json_object_get(m, "server_name")), "0.0.0.0");
    /* the port actually bound, not the 0 asked for */
    CHECK_EQ_INT(json_integer_value(json_object_get(m, "server_port")), 43210);
    CHECK_EQ_STR(json_string_value(json_object_get(m, "log_level")), "warning");
    json_decref(m);

    /* defaults: no chdir, empty lists */
    CHECK_EQ_INT(PARSE(&cfg, err, "app"), CTL_OPTIONS_RUN);
    m = ctl_childconf_build(&cfg, cfg.host, 8080);
    CHECK(json_is_null(json_object_get(m, "chdir")));
    CHECK(json_is_array(json_object_get(m, "middleware")));
    CHECK_EQ_INT(json_array_size(json_object_get(m, "middleware")), 0);
    CHECK_EQ_INT(json_array_size(json_object_get(m, "pythonpath")), 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(m, "server_port")), 8080);
    CHECK_EQ_STR(json_string_value(json_object_get(m, "log_level")), "info");
    CHECK_EQ_STR(json_string_value(json_object_get(m, "server_name")), "127.0.0.1");
    /* it fits one control message */
    char *text = json_dumps(m, JSON_COMPACT);
    CHECK(text != NULL && strlen(text) < 64 * 1024);
    free(text);
    json_decref(m);
}

/* Writes text to a fresh temporary file; returns its path (static). */
static const char *write_temp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/spawning-test-conf-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        return "/nonexistent";
    if (write(fd, text, strlen(text)) < 0)
        path[0] = '\0';
    close(fd);
    return path;
}

TEST(config_file_sets_options)
{
    ctl_config_t cfg;
    char err[256];
    const char *path = write_temp("# a comment\n"
                                  "\n"
                                  "port = 9100\n"
                                  "  threads=3  \n"
                                  "max_requests = 50\n"
                                  "pythonpath = /one\n"
                                  "pythonpath = /two\n"
                                  "daemonize = false\n"
                                  "reuse-port = yes\n"
                                  "log-level = \"warning\"\n"
                                  "app = tests.apps.hello:app mw.a mw.b\n");
    ctl_options_result_t rc = PARSE(&cfg, err, "--config", path);
    CHECK_EQ_INT(rc, CTL_OPTIONS_RUN);
    if (rc != CTL_OPTIONS_RUN)
        printf("       err: %s\n", err);
    CHECK_EQ_INT(cfg.port, 9100);
    CHECK_EQ_INT(cfg.threads, 3);
    CHECK(cfg.max_requests == 50);
    CHECK_EQ_INT(cfg.npythonpath, 2);
    CHECK(!cfg.daemonize);
    CHECK(cfg.reuse_port);
    CHECK_EQ_STR(cfg.log_level, "warning");
    CHECK_EQ_STR(cfg.app, "tests.apps.hello:app");
    CHECK_EQ_INT(cfg.nmiddleware, 2);
    CHECK_EQ_STR(cfg.middleware[1], "mw.b");
    ctl_options_free(&cfg);
    unlink(path);
}

TEST(command_line_wins_over_the_file)
{
    ctl_config_t cfg;
    char err[256];
    const char *path = write_temp("port = 9100\nthreads = 3\npythonpath = /file\n"
                                  "bind = unix:/tmp/x.sock\napp = from.file:app\n");
    ctl_options_result_t rc = PARSE(&cfg, err, "-p", "9200", "--pythonpath", "/cli",
                                    "--config=", "cli:app");
    CHECK_EQ_INT(rc, CTL_OPTIONS_USAGE); /* an empty file name cannot be read */
    rc = PARSE(&cfg, err, "-p", "9200", "--pythonpath", "/cli", "--config", path, "cli:app");
    CHECK_EQ_INT(rc, CTL_OPTIONS_RUN);
    CHECK_EQ_INT(cfg.port, 9200);
    CHECK_EQ_INT(cfg.threads, 3);
    CHECK_EQ_INT(cfg.npythonpath, 1); /* the command line's list replaces the file's */
    CHECK_EQ_STR(cfg.pythonpath[0], "/cli");
    CHECK_EQ_INT(cfg.nbind, 1);
    CHECK_EQ_STR(cfg.app, "cli:app");
    ctl_options_free(&cfg);
    unlink(path);
}

TEST(config_file_errors_name_file_and_line)
{
    ctl_config_t cfg;
    char err[512];
    const char *path = write_temp("port = 9100\nno-such-thing = 1\n");
    EXPECT_USAGE(PARSE(&cfg, err, "--config", path, "app"), err, ":2: unknown option 'no-such-thing'");
    ctl_options_free(&cfg);
    unlink(path);
    path = write_temp("threads = lots\n");
    EXPECT_USAGE(PARSE(&cfg, err, "--config", path, "app"), err, ":1: --threads");
    ctl_options_free(&cfg);
    unlink(path);
    path = write_temp("just words\n");
    EXPECT_USAGE(PARSE(&cfg, err, "--config", path, "app"), err, "name = value");
    ctl_options_free(&cfg);
    unlink(path);
    path = write_temp("daemonize = maybe\n");
    EXPECT_USAGE(PARSE(&cfg, err, "--config", path, "app"), err, "--daemonize");
    ctl_options_free(&cfg);
    unlink(path);
    path = write_temp("config = /etc/other.conf\n");
    EXPECT_USAGE(PARSE(&cfg, err, "--config", path, "app"), err, "unknown option 'config'");
    ctl_options_free(&cfg);
    unlink(path);
    EXPECT_USAGE(PARSE(&cfg, err, "--config", "/nonexistent/spawning.conf", "app"), err,
                 "/nonexistent/spawning.conf");
    ctl_options_free(&cfg);
    /* the file gives no app and neither does the command line */
    path = write_temp("port = 1\n");
    EXPECT_USAGE(PARSE(&cfg, err, "--config", path), err, "APP");
    ctl_options_free(&cfg);
    unlink(path);
}

TEST(defaults_from_elsewhere_yield_to_explicit_settings)
{
    ctl_config_t cfg;
    char err[256];
    const char *path = write_temp("threads = 3\n");
    CHECK_EQ_INT(PARSE(&cfg, err, "--config", path, "-p", "9300", "app"), CTL_OPTIONS_RUN);
    CHECK_EQ_INT(ctl_options_apply_default(&cfg, "port", "1234", err, sizeof err), 1);
    CHECK_EQ_INT(ctl_options_apply_default(&cfg, "threads", "8", err, sizeof err), 1);
    CHECK_EQ_INT(ctl_options_apply_default(&cfg, "processes", "5", err, sizeof err), 0);
    CHECK_EQ_INT(ctl_options_apply_default(&cfg, "host", "0.0.0.0", err, sizeof err), 0);
    CHECK_EQ_INT(ctl_options_apply_default(&cfg, "reuse_port", "true", err, sizeof err), 0);
    CHECK_EQ_INT(cfg.port, 9300);
    CHECK_EQ_INT(cfg.threads, 3);
    CHECK_EQ_INT(cfg.processes, 5);
    CHECK_EQ_STR(cfg.host, "0.0.0.0");
    CHECK(cfg.reuse_port);
    CHECK_EQ_INT(ctl_options_apply_default(&cfg, "processes", "many", err, sizeof err), -EINVAL);
    CHECK(strstr(err, "--processes") != NULL);
    CHECK_EQ_INT(ctl_options_apply_default(&cfg, "bogus", "1", err, sizeof err), -EINVAL);
    CHECK(strstr(err, "bogus") != NULL);
    ctl_options_free(&cfg);
    unlink(path);
}

TEST(bind_and_socket_mode)
{
    ctl_config_t cfg;
    char err[256];
    CHECK_EQ_INT(PARSE(&cfg, err, "-b", "127.0.0.1:8001", "--bind", "[::1]:8002", "-b",
                       "unix:/tmp/a.sock", "--bind=fd://3", "--unix-socket-mode", "0600", "app"),
                 CTL_OPTIONS_RUN);
    CHECK_EQ_INT(cfg.nbind, 4);
    CHECK_EQ_STR(cfg.bind[3], "fd://3");
    CHECK_EQ_INT(cfg.unix_socket_mode, 0600);
    CHECK_EQ_INT(PARSE(&cfg, err, "app"), CTL_OPTIONS_RUN);
    CHECK_EQ_INT(cfg.unix_socket_mode, 0660);
    EXPECT_USAGE(PARSE(&cfg, err, "-b", "localhost", "app"), err, "--bind");
    EXPECT_USAGE(PARSE(&cfg, err, "-b", "::1:80", "app"), err, "--bind");
    EXPECT_USAGE(PARSE(&cfg, err, "-b", "unix:", "app"), err, "--bind");
    EXPECT_USAGE(PARSE(&cfg, err, "-b", "fd://x", "app"), err, "--bind");
    EXPECT_USAGE(PARSE(&cfg, err, "--unix-socket-mode", "0999", "app"), err,
                 "--unix-socket-mode");
}

TEST(access_log_options)
{
    ctl_config_t cfg;
    char err[256];
    CHECK_EQ_INT(PARSE(&cfg, err, "app"), CTL_OPTIONS_RUN);
    CHECK(cfg.access_log == NULL && cfg.access_log_format == NULL);
    json_t *m = ctl_childconf_build(&cfg, cfg.host, 8080);
    CHECK(json_is_null(json_object_get(m, "access_log")));
    CHECK(json_is_null(json_object_get(m, "access_log_format")));
    json_decref(m);
    ctl_options_result_t rc = PARSE(&cfg, err, "-l", "/tmp/a.log", "--access-log-format",
                                    "%(h)s %({X-Id}i)s %({Content-Type}o)s %%", "app");
    CHECK_EQ_INT(rc, CTL_OPTIONS_RUN);
    CHECK_EQ_STR(cfg.access_log, "/tmp/a.log");
    m = ctl_childconf_build(&cfg, cfg.host, 8080);
    CHECK_EQ_STR(json_string_value(json_object_get(m, "access_log")), "/tmp/a.log");
    CHECK_EQ_STR(json_string_value(json_object_get(m, "access_log_format")),
                 "%(h)s %({X-Id}i)s %({Content-Type}o)s %%");
    json_decref(m);
    CHECK_EQ_INT(PARSE(&cfg, err, "--access-log-file=/x", "app"), CTL_OPTIONS_RUN);
    CHECK_EQ_STR(cfg.access_log, "/x");
    rc = PARSE(&cfg, err, "--access-log-format", "%(h)s %(Z)s", "app");
    EXPECT_USAGE(rc, err, "--access-log-format");
    CHECK(strstr(err, "%(Z)s") != NULL);
    rc = PARSE(&cfg, err, "--access-log-format", "100%", "app");
    EXPECT_USAGE(rc, err, "--access-log-format");
    rc = PARSE(&cfg, err, "--access-log-format", "%({bad name}i)s", "app");
    EXPECT_USAGE(rc, err, "--access-log-format");
    rc = PARSE(&cfg, err, "-l", "", "app");
    EXPECT_USAGE(rc, err, "--access-log-file");
    rc = PARSE(&cfg, err, "app", "-l");
    EXPECT_USAGE(rc, err, "-l");
}

TEST(proxy_protocol_option)
{
    ctl_config_t cfg;
    char err[256];
    CHECK_EQ_INT(PARSE(&cfg, err, "app"), CTL_OPTIONS_RUN);
    CHECK(!cfg.proxy_protocol);
    json_t *m = ctl_childconf_build(&cfg, cfg.host, 8080);
    CHECK(json_is_false(json_object_get(m, "proxy_protocol")));
    json_decref(m);
    CHECK_EQ_INT(PARSE(&cfg, err, "--proxy-protocol", "app"), CTL_OPTIONS_RUN);
    CHECK(cfg.proxy_protocol);
    m = ctl_childconf_build(&cfg, cfg.host, 8080);
    CHECK(json_is_true(json_object_get(m, "proxy_protocol")));
    json_decref(m);
    EXPECT_USAGE(PARSE(&cfg, err, "--proxy-protocol=yes", "app"), err, "--proxy-protocol");
    /* In the config file, a flag says true or false. */
    const char *path = write_temp("proxy-protocol = true\napp = app\n");
    CHECK_EQ_INT(PARSE(&cfg, err, "--config", path), CTL_OPTIONS_RUN);
    CHECK(cfg.proxy_protocol);
    ctl_options_free(&cfg);
    unlink(path);
    path = write_temp("proxy_protocol = off\napp = app\n");
    CHECK_EQ_INT(PARSE(&cfg, err, "--config", path), CTL_OPTIONS_RUN);
    CHECK(!cfg.proxy_protocol);
    ctl_options_free(&cfg);
    unlink(path);
}

int main(int argc, char **argv)
{
    unit_init(argc, argv);
    RUN(defaults);
    RUN(short_options);
    RUN(long_options);
    RUN(repeatable_pythonpath);
    RUN(app_and_middleware);
    RUN(bad_values_name_the_option);
    RUN(unknown_options);
    RUN(missing_app_and_missing_values);
    RUN(error_fits_a_small_buffer);
    RUN(help_and_version);
    RUN(help_wins_even_without_app);
    RUN(repeated_parses_are_independent);
    RUN(child_config_json);
    RUN(config_file_sets_options);
    RUN(command_line_wins_over_the_file);
    RUN(config_file_errors_name_file_and_line);
    RUN(defaults_from_elsewhere_yield_to_explicit_settings);
    RUN(bind_and_socket_mode);
    RUN(access_log_options);
    RUN(proxy_protocol_option);
    /* last: a failure here may leave getopt's state stale */
    RUN(parse_after_error_in_grouped_short_options);
    return unit_finish();
}
