/* ctl_factory: see ctl_factory.h. */
#include "ctl_factory.h"

#include "cmn_ctlmsg.h"
#include "cmn_log.h"
#include "ctl_child.h"
#include "ctl_childconf.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The X.Y of the Python spawning_child embeds (from the Makefile). */
#ifndef CTL_PYTHON_VERSION
#define CTL_PYTHON_VERSION "3"
#endif


const char *ctl_factory_python_version(void)
{
    return CTL_PYTHON_VERSION;
}

int ctl_factory_check_virtualenv(const ctl_config_t *cfg, char *err, size_t errlen)
{
    if (!cfg->virtualenv)
        return 0;
    struct stat st;
    if (stat(cfg->virtualenv, &st) < 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "--virtualenv %s: no such directory", cfg->virtualenv);
        return -ENOENT;
    }
    char site[4200];
    snprintf(site, sizeof site, "%s/lib/python%s/site-packages", cfg->virtualenv,
             CTL_PYTHON_VERSION);
    if (stat(site, &st) < 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "--virtualenv %s: no lib/python%s/site-packages in it "
                 "(not a virtualenv for Python %s)", cfg->virtualenv, CTL_PYTHON_VERSION,
                 CTL_PYTHON_VERSION);
        return -ENOENT;
    }
    return 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Waits for the probe's one answer. Returns it (new reference), or NULL
 * when the probe died silently or timed out (*timed_out says which). */
static json_t *await_answer(int fd, bool *timed_out)
{
    double deadline = now() + CTL_FACTORY_PROBE_TIMEOUT;
    *timed_out = false;
    for (;;) {
        int err = 0;
        json_t *msg = cmn_ctlmsg_recv(fd, NULL, NULL, &err);
        if (msg || err != -EAGAIN)
            return msg;
        double left = deadline - now();
        if (left <= 0) {
            *timed_out = true;
            return NULL;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int)(left * 1000) + 1) < 0 && errno != EINTR)
            return NULL;
    }
}

/* Reaps the probe (killing it if it is still there after `grace` seconds). */
static void reap(pid_t pid, double grace)
{
    double deadline = now() + grace;
    while (waitpid(pid, NULL, WNOHANG) == 0) {
        if (now() >= deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            return;
        }
        usleep(10000);
    }
}

/* Applies the probe's "options" as defaults; values point into `answer`. */
static int apply_options(ctl_config_t *cfg, json_t *answer)
{
    json_t *options = json_object_get(answer, "options");
    const char *name;
    json_t *value;
    json_object_foreach(options, name, value)
    {
        char err[400];
        if (!json_is_string(value)) {
            cmn_error("--factory %s: option '%s' is not a string", cfg->factory, name);
            return -EINVAL;
        }
        int rc = ctl_options_apply_default(cfg, name, json_string_value(value), err, sizeof err);
        if (rc < 0) {
            cmn_error("--factory %s set %s: %s", cfg->factory, name, err);
            return rc;
        }
        cmn_debug("--factory %s: %s = %s%s", cfg->factory, name, json_string_value(value),
                  rc == 1 ? " (ignored: set explicitly)" : "");
    }
    return 0;
}

/* Logs a probe's failure: a traceback as a block, a one-line complaint as
 * one line. */
static void log_failure(const ctl_config_t *cfg, json_t *answer, bool timed_out)
{
    const char *text = json_string_value(json_object_get(answer, "error"));
    if (timed_out)
        cmn_error("--factory %s: no answer within %.0f seconds", cfg->factory,
                  CTL_FACTORY_PROBE_TIMEOUT);
    else if (!text)
        cmn_error("--factory %s: the probe child died without an answer", cfg->factory);
    else if (!strchr(text, '\n'))
        cmn_error("%s", text);
    else
        cmn_log_block(CMN_LOG_ERROR, "--factory failed:", text, strlen(text));
}

/* Starts the probe child; returns its pid (and *fd) or a negative errno. */
static pid_t start_probe(const ctl_config_t *cfg, int *fd)
{
    char binary[4096], err[512];
    int rc = ctl_child_binary_path(binary, sizeof binary);
    if (rc < 0) {
        cmn_error("--factory: cannot find spawning_child: %s", strerror(-rc));
        return rc;
    }
    json_t *conf = ctl_childconf_build(cfg, cfg->host, cfg->port);
    json_object_set_new(conf, "probe", json_true());
    json_object_set_new(conf, "report_files", json_false());
    /* The factory is the app's code: it runs as the user the app will run
     * as, not as the root that binds the port. */
    pid_t pid = ctl_child_spawn_as(binary, conf, cfg->chuid, fd, err, sizeof err);
    json_decref(conf);
    if (pid < 0)
        cmn_error("--factory: cannot start %s: %s", binary, err);
    return pid;
}

int ctl_factory_probe(ctl_config_t *cfg, json_t **answer)
{
    *answer = NULL;
    if (!cfg->factory)
        return 0;
    int fd;
    pid_t pid = start_probe(cfg, &fd);
    if (pid < 0)
        return (int)pid;
    bool timed_out;
    json_t *msg = await_answer(fd, &timed_out);
    close(fd);
    reap(pid, timed_out ? 0 : 10);
    if (!msg || strcmp(cmn_ctlmsg_type(msg), CMN_MSG_OPTIONS) != 0) {
        log_failure(cfg, msg, timed_out);
        json_decref(msg);
        return -EINVAL;
    }
    int rc = apply_options(cfg, msg);
    if (rc < 0) {
        json_decref(msg);
        return rc;
    }
    *answer = msg;
    return 0;
}
