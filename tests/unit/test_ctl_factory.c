/* Unit tests for controller/ctl_factory.h: the factory settings children
 * get, the --virtualenv check, and the factory options on the command line. */
#include "ctl_childconf.h"
#include "ctl_factory.h"
#include "unit.h"

#include <errno.h>
#include <sys/stat.h>

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

TEST(factory_options_parse)
{
    ctl_config_t cfg;
    char err[256];
    CHECK_EQ_INT(PARSE(&cfg, err, "-f", "spawning.paste_factory.config_factory", "dev.ini", "a=b",
                       "-c", "--sysinfo", "--virtualenv", "/srv/venv"),
                 CTL_OPTIONS_RUN);
    CHECK_EQ_STR(cfg.factory, "spawning.paste_factory.config_factory");
    CHECK_EQ_STR(cfg.app, "dev.ini");
    CHECK_EQ_INT(cfg.nmiddleware, 1);
    CHECK(cfg.coverage && cfg.sysinfo);
    CHECK_EQ_STR(cfg.virtualenv, "/srv/venv");
    ctl_options_free(&cfg);
    /* a factory needs no positional argument; without one APP is missing */
    CHECK_EQ_INT(PARSE(&cfg, err, "--factory=my.factory"), CTL_OPTIONS_RUN);
    CHECK(cfg.app == NULL && !cfg.coverage && !cfg.sysinfo);
    ctl_options_free(&cfg);
    CHECK_EQ_INT(PARSE(&cfg, err, "--coverage"), CTL_OPTIONS_USAGE);
    ctl_options_free(&cfg);
    CHECK_EQ_INT(PARSE(&cfg, err, "app:app", "-f"), CTL_OPTIONS_USAGE);
    CHECK(strstr(err, "--factory") != NULL);
    ctl_options_free(&cfg);
}

TEST(child_config_carries_the_factory_dict)
{
    ctl_config_t cfg;
    char err[256];
    CHECK_EQ_INT(PARSE(&cfg, err, "-f", "f.g", "-s", "3", "-t", "2", "-i", "::1", "one", "two"),
                 CTL_OPTIONS_RUN);
    json_t *m = ctl_childconf_build(&cfg, "::1", 4321);
    CHECK(json_is_null(json_object_get(m, "app")) == false);
    CHECK_EQ_STR(json_string_value(json_object_get(m, "factory")), "f.g");
    json_t *o = json_object_get(m, "factory_options");
    json_t *args = json_object_get(o, "args");
    CHECK_EQ_INT((int)json_array_size(args), 2);
    CHECK_EQ_STR(json_string_value(json_array_get(args, 0)), "one");
    CHECK_EQ_STR(json_string_value(json_array_get(args, 1)), "two");
    CHECK_EQ_INT((int)json_integer_value(json_object_get(o, "port")), 4321);
    CHECK_EQ_INT((int)json_integer_value(json_object_get(o, "num_processes")), 3);
    CHECK_EQ_INT((int)json_integer_value(json_object_get(o, "threadpool_workers")), 2);
    CHECK_EQ_STR(json_string_value(json_object_get(o, "host")), "::1");
    CHECK(json_is_false(json_object_get(m, "coverage")));
    CHECK(json_is_null(json_object_get(m, "virtualenv")));
    json_decref(m);
    ctl_options_free(&cfg);
    /* without a factory: no factory_options, APP as before */
    CHECK_EQ_INT(PARSE(&cfg, err, "app:app"), CTL_OPTIONS_RUN);
    m = ctl_childconf_build(&cfg, "127.0.0.1", 80);
    CHECK(json_is_null(json_object_get(m, "factory")));
    CHECK(json_object_get(m, "factory_options") == NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(m, "app")), "app:app");
    json_decref(m);
    ctl_options_free(&cfg);
}

TEST(virtualenv_check)
{
    ctl_config_t cfg;
    char err[512];
    char dir[] = "/tmp/test_ctl_factory.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    CHECK_EQ_INT(PARSE(&cfg, err, "--virtualenv", dir, "app:app"), CTL_OPTIONS_RUN);
    CHECK_EQ_INT(ctl_factory_check_virtualenv(&cfg, err, sizeof err), -ENOENT);
    CHECK(strstr(err, "site-packages") != NULL && !strchr(err, '\n'));
    char path[256];
    snprintf(path, sizeof path, "%s/lib", dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/lib/python%s", dir, ctl_factory_python_version());
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/lib/python%s/site-packages", dir, ctl_factory_python_version());
    CHECK_EQ_INT(mkdir(path, 0700), 0);
    CHECK_EQ_INT(ctl_factory_check_virtualenv(&cfg, err, sizeof err), 0);
    rmdir(path);
    snprintf(path, sizeof path, "%s/lib/python%s", dir, ctl_factory_python_version());
    rmdir(path);
    snprintf(path, sizeof path, "%s/lib", dir);
    rmdir(path);
    rmdir(dir);
    CHECK_EQ_INT(ctl_factory_check_virtualenv(&cfg, err, sizeof err), -ENOENT);
    CHECK(strstr(err, "no such directory") != NULL);
    ctl_options_free(&cfg);
}

int main(int argc, char **argv)
{
    unit_init(argc, argv);
    RUN(factory_options_parse);
    RUN(child_config_carries_the_factory_dict);
    RUN(virtualenv_check);
    return unit_finish();
}
