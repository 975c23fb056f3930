/* spawning_controller (installed as spawning and spawn too): parse the
 * command line, bind, hand over to the supervisor. No Python in here. */
#include "cmn_log.h"
#include "cmn_version.h"
#include "ctl_listen.h"
#include "ctl_options.h"
#include "ctl_supervisor.h"

#include <signal.h>
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

int main(int argc, char **argv)
{
    ctl_config_t cfg;
    char err[512];
    switch (ctl_options_parse(argc, argv, &cfg, err, sizeof err)) {
    case CTL_OPTIONS_EXIT_OK:
        return 0;
    case CTL_OPTIONS_USAGE:
        fprintf(stderr, "spawning: %s\n", err);
        return 2;
    case CTL_OPTIONS_RUN:
        break;
    }
    cmn_log_level_t level;
    if (cmn_log_parse_level(cfg.log_level, &level) == 0)
        cmn_log_set_level(level);
    signal(SIGPIPE, SIG_IGN);
    raise_descriptor_limit();

    int port = 0;
    int fd = ctl_listen_tcp(cfg.host, cfg.port, &port, err, sizeof err);
    if (fd < 0) {
        cmn_error("%s", err);
        return 1;
    }
    char url[300];
    ctl_listen_url(cfg.host, port, url, sizeof url);
    cmn_info("spawning %s listening on %s (%d processes, %d threads each)", SPAWNING_VERSION,
             url, cfg.processes, cfg.threads);
    return ctl_supervisor_run(&cfg, fd, port);
}
