/* spawning_controller (installed as spawning and spawn too): parse the
 * command line, bind, hand over to the supervisor. No Python in here. */
#include "cmn_log.h"
#include "cmn_version.h"
#include "cmn_logfile.h"
#include "ctl_daemon.h"
#include "ctl_factory.h"
#include "ctl_listen.h"
#include "ctl_options.h"
#include "ctl_supervisor.h"

#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <stdio.h>

/* A server holds thousands of connections: lift the soft limit on open
 * descriptors to the hard one (the children inherit it). */
static void raise_descriptor_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* Log files, the socket, detaching, the pidfile, then dropping root: in
 * this order, so port 80 and root-owned paths work and the user started
 * command reports any failure. Returns the listening fd or -1 (logged). */
static int set_up(const ctl_config_t *cfg, int *port)
{
    char err[512];
    int rc = cfg->daemonize ? 0 : cmn_logfile_reopen(cfg->stdout_path, cfg->stderr_path);
    if (rc < 0) {
        cmn_error("cannot open the log files: %s", strerror(-rc));
        return -1;
    }
    /* With --reuse-port the controller only holds the port; each child gets
     * its own listening socket (ctl_supervisor.c). */
    int fd = ctl_listen_tcp_flags(cfg->host, cfg->port,
                                  cfg->reuse_port ? CTL_LISTEN_REUSEPORT | CTL_LISTEN_NO_LISTEN : 0,
                                  port, err, sizeof err);
    if (fd < 0) {
        cmn_error("%s", err);
        return -1;
    }
    if (cfg->daemonize && ctl_daemonize(cfg->stdout_path, cfg->stderr_path, err, sizeof err) < 0) {
        cmn_error("cannot daemonize: %s", err);
        return -1;
    }
    if ((cfg->pidfile && ctl_pidfile_write(cfg->pidfile, err, sizeof err) < 0) ||
        (cfg->chuid && ctl_drop_privileges(cfg->chuid, err, sizeof err) < 0)) {
        cmn_error("%s", err);
        ctl_daemon_fail(err);
        return -1;
    }
    char url[300];
    ctl_listen_url(cfg->host, *port, url, sizeof url);
    cmn_info("spawning %s listening on %s (%d processes, %d threads each)", SPAWNING_VERSION, url,
             cfg->processes, cfg->threads);
    return fd;
}

int main(int argc, char **argv)
{
    ctl_config_t cfg;
    char err[512];
    switch (ctl_options_parse(argc, argv, &cfg, err, sizeof err)) {
    case CTL_OPTIONS_EXIT_OK:
        ctl_options_free(&cfg);
        return 0;
    case CTL_OPTIONS_USAGE:
        fprintf(stderr, "spawning: %s\n", err);
        ctl_options_free(&cfg);
        return 2;
    case CTL_OPTIONS_RUN:
        break;
    }
    cmn_log_level_t level;
    if (cmn_log_parse_level(cfg.log_level, &level) == 0)
        cmn_log_set_level(level);
    signal(SIGPIPE, SIG_IGN);
    raise_descriptor_limit();

    /* A factory may set the port: it runs (in a probe child) before binding. */
    json_t *factory_answer = NULL;
    if (ctl_factory_check_virtualenv(&cfg, err, sizeof err) < 0) {
        fprintf(stderr, "spawning: %s\n", err);
        ctl_options_free(&cfg);
        return 2;
    }
    if (ctl_factory_probe(&cfg, &factory_answer) < 0) {
        ctl_options_free(&cfg);
        return 1;
    }
    int port = 0;
    int fd = set_up(&cfg, &port);
    if (fd < 0) {
        json_decref(factory_answer);
        return 1;
    }
    int rc = ctl_supervisor_run(&cfg, fd, port);
    if (cfg.pidfile)
        ctl_pidfile_remove(cfg.pidfile);
    ctl_options_free(&cfg);
    json_decref(factory_answer);
    return rc;
}
