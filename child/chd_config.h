/* chd_config: the child's settings, as sent by the controller in the
 * CMN_MSG_CONFIG message (see ctl_options_child_config). */
#ifndef CHD_CONFIG_H
#define CHD_CONFIG_H

#include "chd_request.h"
#include "cmn_iplist.h"

#include <jansson.h>

#define CHD_MAX_LIST 64

typedef struct {
    char *app;
    char *middleware[CHD_MAX_LIST];
    int nmiddleware;
    char *pythonpath[CHD_MAX_LIST];
    int npythonpath;
    char *chdir; /* or NULL */
    int threads;
    int processes;
    char *server_name;
    int server_port;
    char *log_level;
    chd_limits_t limits;
    double header_timeout; /* seconds */
    double keepalive;      /* seconds; 0: one response per connection */
    double body_timeout;   /* seconds */
    double graceful_timeout; /* seconds an orphan may finish its requests (chd_orphan.h); -1: none */
    double timeout;          /* --timeout: seconds a request may run (chd_watchdog.h); 0: off */
    cmn_iplist_t trusted_proxies; /* --forwarded-allow-ips */
    bool proxy_protocol;          /* --proxy-protocol: trusted peers start with a PROXY header */
    long long max_requests;       /* this child's share of --max-requests (+ jitter); 0: none */
    bool report_files;            /* --reload=dev: report imported source files */
    char *stdout_path, *stderr_path; /* --stdout/--stderr, reopened on "reopen" */
    char *factory;                /* -f/--factory DOTTED, or NULL (then app is set) */
    json_t *factory_options;      /* the dict the factory is called with (owned), or NULL */
    bool probe;                   /* run the factory once, answer "options", exit */
    bool coverage, sysinfo;       /* --coverage, --sysinfo */
    char *virtualenv;             /* --virtualenv DIR, or NULL */
    char *access_log;        /* -l/--access-log-file, or NULL: stdout */
    char *access_log_format; /* --access-log-format, or NULL: the default */
} chd_config_t;

/* Fills cfg from a config message. Returns 0, or -EINVAL when a member is
 * missing or has the wrong type (err names it). */
int chd_config_from_json(json_t *msg, chd_config_t *cfg, char *err, size_t errlen);

void chd_config_free(chd_config_t *cfg);

#endif
