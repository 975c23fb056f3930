/* spawning_controller (installed as spawning and spawn too): parse the
 * command line, bind, hand over to the supervisor. No Python in here. */
#include "cmn_log.h"
#include "cmn_version.h"
#include "cmn_logfile.h"
#include "ctl_daemon.h"
#include "ctl_factory.h"
#include "ctl_listeners.h"
#include "ctl_options.h"
#include "ctl_sdnotify.h"
#include "ctl_servicesocks.h"
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

/* --chuid: the UNIX sockets belong to the user the server runs as, as
 * they would had that user created them. */
static int give_sockets_to(const char *chuid, ctl_listeners_t *listeners,
                           const ctl_servicesocks_t *socks, char *err, size_t errlen)
{
    uid_t uid;
    gid_t gid;
    int rc = ctl_chuid_ids(chuid, &uid, &gid, err, errlen);
    if (rc == 0)
        rc = ctl_listeners_chown(listeners, uid, gid, err, errlen);
    return rc < 0 ? rc : ctl_servicesocks_chown(socks, uid, gid, err, errlen);
}

/* Log files, the sockets (the services' too), detaching, the pidfile, then
 * dropping root: in this order, so port 80 and root-owned paths work and
 * the command the user started reports any failure. Returns 0, or -1
 * (logged) with nothing left open or created. */
static int set_up(const ctl_config_t *cfg, ctl_listeners_t *listeners, ctl_servicesocks_t *socks)
{
    char err[512];
    int rc = cfg->daemonize ? 0 : cmn_logfile_reopen(cfg->stdout_path, cfg->stderr_path);
    if (rc < 0) {
        cmn_error("cannot open the log files: %s", strerror(-rc));
        return -1;
    }
    if (ctl_listeners_open(listeners, cfg, err, sizeof err) < 0) {
        cmn_error("%s", err);
        return -1;
    }
    if (ctl_servicesocks_open(socks, cfg, listeners, err, sizeof err) < 0) {
        cmn_error("%s", err);
        ctl_listeners_close(listeners);
        return -1;
    }
    if (cfg->daemonize && ctl_daemonize(cfg->stdout_path, cfg->stderr_path, err, sizeof err) < 0) {
        cmn_error("cannot daemonize: %s", err);
        ctl_servicesocks_close(socks);
        ctl_listeners_close(listeners);
        return -1;
    }
    if ((cfg->pidfile && ctl_pidfile_write(cfg->pidfile, err, sizeof err) < 0) ||
        (cfg->chuid && give_sockets_to(cfg->chuid, listeners, socks, err, sizeof err) < 0) ||
        (cfg->chuid && ctl_drop_privileges(cfg->chuid, err, sizeof err) < 0)) {
        cmn_error("%s", err);
        ctl_daemon_fail(err);
        ctl_servicesocks_close(socks);
        ctl_listeners_close(listeners);
        return -1;
    }
    char urls[1024];
    ctl_listeners_describe(listeners, urls, sizeof urls);
    cmn_info("spawning %s listening on %s%s (%d processes, %d threads each)", SPAWNING_VERSION,
             urls, listeners->from_systemd ? " (from systemd)" : "", cfg->processes,
             cfg->threads);
    return 0;
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
    ctl_sdnotify_init();

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
    static ctl_listeners_t listeners;
    static ctl_servicesocks_t service_sockets;
    if (set_up(&cfg, &listeners, &service_sockets) < 0) {
        ctl_options_free(&cfg);
        json_decref(factory_answer);
        return 1;
    }
    int rc = ctl_supervisor_run(&cfg, &listeners, &service_sockets);
    if (cfg.pidfile)
        ctl_pidfile_remove(cfg.pidfile);
    ctl_options_free(&cfg);
    json_decref(factory_answer);
    return rc;
}
