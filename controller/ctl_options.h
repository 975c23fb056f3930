/* ctl_options: the command line of `spawning` / `spawning_controller`.
 *
 * One table (ctl_options.c) lists every option with its long name, short
 * name, argument and help text; --help is printed from that table, so the
 * help can never miss an option. Parsing fills a ctl_config_t; nothing here
 * touches sockets or processes. */
#ifndef CTL_OPTIONS_H
#define CTL_OPTIONS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define CTL_MAX_LIST 64 /* most --pythonpath entries / middlewares */

typedef struct {
    const char *host;          /* -i/--host */
    int port;                  /* -p/--port */
    int processes;             /* -s/--processes */
    int threads;               /* -t/--threads */
    double deadman_timeout;    /* --deadman-timeout (alias --graceful-timeout), seconds */
    const char *chdir;         /* --chdir, or NULL */
    const char *pythonpath[CTL_MAX_LIST];
    int npythonpath;
    const char *app;           /* APP */
    const char *middleware[CTL_MAX_LIST];
    int nmiddleware;
    const char *log_level;     /* --log-level */
    int limit_request_line;    /* --limit-request-line, bytes, 0 = no limit */
    int limit_request_fields;  /* --limit-request-fields */
    int limit_request_field_size; /* --limit-request-field-size, bytes, 0 = no limit */
    long long limit_request_body; /* --limit-request-body, bytes, 0 = no limit */
    double header_timeout;     /* --header-timeout, seconds */
    double keepalive;          /* --keepalive, seconds; 0 = no keep-alive */
    double body_timeout;       /* --body-timeout, seconds */
    const char *forwarded_allow_ips; /* --forwarded-allow-ips */
    bool reload_dev;           /* --reload=dev */
    const char *watch[CTL_MAX_LIST]; /* -w/--watch */
    int nwatch;
    long long max_memory;      /* -m/--max-memory, bytes, 0 = none */
    double max_age;            /* -a/--max-age, seconds, 0 = none */
    long long max_requests;    /* --max-requests, 0 = none */
    long long max_requests_jitter; /* --max-requests-jitter */
    double timeout;            /* --timeout, seconds, 0 = off */
    const char *pidfile;       /* --pidfile */
    bool daemonize;            /* -d/--daemonize */
    const char *stdout_path;   /* --stdout */
    const char *stderr_path;   /* --stderr */
    const char *access_log;    /* -l/--access-log-file, NULL: stdout */
    const char *access_log_format; /* --access-log-format, NULL: the default */
    const char *chuid;         /* -u/--chuid USER[:GROUP] */
    const char *admin_socket;  /* --admin-socket, NULL: derived from the port */
    int status_port;           /* --status-port, 0: no status service */
    const char *status_host;   /* --status-host, NULL: the same as --host */
    bool reuse_port;           /* --reuse-port */
} ctl_config_t;

typedef enum {
    CTL_OPTIONS_RUN = 0,  /* config filled: start serving */
    CTL_OPTIONS_EXIT_OK,  /* --help or --version printed: exit 0 */
    CTL_OPTIONS_USAGE,    /* bad command line: err filled, exit 2 */
} ctl_options_result_t;

/* Parses argv into cfg (defaults first). Strings in cfg point into argv.
 * On CTL_OPTIONS_USAGE, err holds one line naming the offending option. */
ctl_options_result_t ctl_options_parse(int argc, char **argv, ctl_config_t *cfg,
                                       char *err, size_t errlen);

/* The settings a child needs, as the body of a CMN_MSG_CONFIG message (new
 * reference). server_port is the port actually bound (the config may say 0).
 * "max_requests" is --max-requests without the jitter; the supervisor sets
 * each child's own. */
json_t *ctl_options_child_config(const ctl_config_t *cfg, int server_port);

#endif
