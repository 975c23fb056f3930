/* ctl_options: the settings of `spawning` / `spawning_controller`, from the
 * command line, the --config file and defaults from elsewhere (a factory).
 *
 * One table (ctl_options.c) lists every option: long and short name,
 * argument, help text, and how its value is parsed and where it goes (a
 * kind, a field of ctl_config_t, a range). --help, getopt, the config file
 * and ctl_options_apply_default all work from that table, so an option
 * exists everywhere or nowhere. Parsing fills a ctl_config_t; nothing here
 * touches sockets or processes. */
#ifndef CTL_OPTIONS_H
#define CTL_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#define CTL_MAX_LIST 64 /* most --pythonpath entries / middlewares */
#define CTL_MAX_BINDS 16 /* most listening sockets (-b, systemd): fds ride in one message */
#define CTL_MAX_OPTIONS 96 /* room in the "set explicitly" table */
#define CTL_MAX_CERTS 16 /* --certfile entries (CHD_TLS_MAX_CERTS) */

typedef struct {
    const char *host;          /* -i/--host */
    int port;                  /* -p/--port */
    int processes;             /* -s/--processes */
    int threads;               /* -t/--threads */
    double deadman_timeout;    /* --deadman-timeout: heartbeats may be missed this long, seconds */
    double graceful_timeout;   /* --graceful-timeout: a stopping child may finish this long */
    double shutdown_delay;     /* --shutdown-delay: /healthz 503 before a graceful stop, seconds */
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
    bool proxy_protocol;       /* --proxy-protocol */
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
    const char *bind[CTL_MAX_BINDS]; /* -b/--bind ADDR; none: --host:--port */
    int nbind;
    int unix_socket_mode;      /* --unix-socket-mode, permission bits of unix: sockets */
    const char *config_file;   /* --config FILE, or NULL */
    const char *factory;       /* -f/--factory DOTTED, or NULL; then APP is optional */
    const char *virtualenv;    /* --virtualenv DIR, or NULL */
    bool coverage;             /* -c/--coverage */
    bool sysinfo;              /* --sysinfo */
    /* TLS: on https:// addresses, or on every TCP address when none says
     * https:// and --certfile is given (ctl_listeners.c decides per address). */
    const char *certfile[CTL_MAX_CERTS]; /* --certfile, the first is the default */
    int ncertfile;
    const char *keyfile[CTL_MAX_CERTS];  /* --keyfile, one per certfile, or none */
    int nkeyfile;
    const char *ca_certs;      /* --ca-certs: client certificates are checked */
    bool verify_client;        /* --verify-client: and required */
    const char *ciphers;       /* --ciphers: TLS 1.2 cipher list, NULL: the default */
    /* Owned by the parser (ctl_options_free): the config file's text, which
     * the file's values point into; and which options the command line or
     * the config file set (so a factory's defaults do not override them). */
    char *config_text;
    bool set_explicitly[CTL_MAX_OPTIONS];
    bool list_from_file[CTL_MAX_OPTIONS]; /* a repeatable option's entries came from the file */
    bool app_from_file;
} ctl_config_t;

typedef enum {
    CTL_OPTIONS_RUN = 0,  /* config filled: start serving */
    CTL_OPTIONS_EXIT_OK,  /* --help or --version printed: exit 0 */
    CTL_OPTIONS_USAGE,    /* bad command line: err filled, exit 2 */
} ctl_options_result_t;

/* Parses argv into cfg: defaults first, then the --config file (if argv
 * names one), then argv, so the command line wins over the file (a
 * repeatable option given on the command line replaces the file's list).
 * Strings in cfg point into argv or into cfg->config_text. On
 * CTL_OPTIONS_USAGE, err holds one line naming the offending option (and
 * FILE:LINE for the config file). Call ctl_options_free when done. */
ctl_options_result_t ctl_options_parse(int argc, char **argv, ctl_config_t *cfg,
                                       char *err, size_t errlen);

/* Frees what ctl_options_parse allocated (the config file's text). */
void ctl_options_free(ctl_config_t *cfg);

/* True when the command line or the config file set long option `name`. */
bool ctl_options_was_set(const ctl_config_t *cfg, const char *name);

/* Applies long option `name` (as on the command line, without "--") with
 * `value` (NULL or "true"/"false" for flags) unless the command line or the
 * config file already set it: for settings that come from elsewhere, such
 * as a factory's [server:main] section. `value` must outlive cfg. Returns
 * 0 applied, 1 skipped (set explicitly), or -EINVAL with one line in err
 * (unknown name, bad value). */
int ctl_options_apply_default(ctl_config_t *cfg, const char *name, const char *value, char *err,
                              size_t errlen);


#endif
