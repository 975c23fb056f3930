/* chd_config: the child's settings, as sent by the controller in the
 * CMN_MSG_CONFIG message (see ctl_options_child_config). */
#ifndef CHD_CONFIG_H
#define CHD_CONFIG_H

#include "chd_listeners.h"
#include "chd_request.h"
#include "chd_tls.h"
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
    int stats_fd;            /* the counter page (cmn_statspage.h), or -1: none */
    struct {
        bool enabled;            /* some listener serves TLS */
        char *certfile[CHD_TLS_MAX_CERTS];
        char *keyfile[CHD_TLS_MAX_CERTS]; /* NULL: the key is in its certfile */
        int ncerts;
        char *ca_certs;          /* or NULL */
        bool verify_client;
        char *ciphers;           /* or NULL: chd_tls's default */
        bool on_listener[CHD_MAX_LISTENERS]; /* per listening socket, in their order */
        char *ticket_keys;       /* hex, newest first (controller/ctl_tlskeys.h) */
    } tls;
} chd_config_t;

/* The TLS settings as chd_tls_ctx_new takes them (pointing into cfg). */
chd_tls_settings_t chd_config_tls_settings(const chd_config_t *cfg);

/* Fills cfg from a config message. Returns 0, or -EINVAL when a member is
 * missing or has the wrong type (err names it). */
int chd_config_from_json(json_t *msg, chd_config_t *cfg, char *err, size_t errlen);

void chd_config_free(chd_config_t *cfg);

#endif
