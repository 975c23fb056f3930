/* ctl_options: see ctl_options.h. */
#include "ctl_options.h"

#include "cmn_accessfmt.h"
#include "cmn_ctlmsg.h"
#include "cmn_iplist.h"
#include "cmn_log.h"
#include "cmn_version.h"
#include "ctl_bind.h"
#include "ctl_factory.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

enum {
    OPT_CHDIR = 256,
    OPT_PYTHONPATH,
    OPT_GRACEFUL_TIMEOUT,
    OPT_LOG_LEVEL,
    OPT_LIMIT_REQUEST_LINE,
    OPT_LIMIT_REQUEST_FIELDS,
    OPT_LIMIT_REQUEST_FIELD_SIZE,
    OPT_LIMIT_REQUEST_BODY,
    OPT_HEADER_TIMEOUT,
    OPT_KEEPALIVE,
    OPT_NO_KEEPALIVE,
    OPT_BODY_TIMEOUT,
    OPT_FORWARDED_ALLOW_IPS,
    OPT_DEADMAN_TIMEOUT,
    OPT_SHUTDOWN_DELAY,
    OPT_RELOAD,
    OPT_MAX_REQUESTS,
    OPT_MAX_REQUESTS_JITTER,
    OPT_TIMEOUT,
    OPT_PIDFILE,
    OPT_STDOUT,
    OPT_STDERR,
    OPT_ACCESS_LOG_FORMAT,
    OPT_ADMIN_SOCKET,
    OPT_STATUS_PORT,
    OPT_STATUS_HOST,
    OPT_REUSE_PORT,
    OPT_UNIX_SOCKET_MODE,
    OPT_CONFIG,
    OPT_SYSINFO,
    OPT_VIRTUALENV,
    OPT_HELP,
    OPT_VERSION,
};

typedef struct {
    struct option opt;
    const char *metavar; /* NULL for flags */
    const char *help;
} option_doc_t;

static const option_doc_t options[] = {
    {{"host", required_argument, NULL, 'i'}, "HOST",
     "address to listen on (IPv4 or IPv6; default 127.0.0.1)"},
    {{"port", required_argument, NULL, 'p'}, "PORT", "TCP port to listen on (default 8080)"},
    {{"bind", required_argument, NULL, 'b'}, "ADDR",
     "listen on ADDR: HOST:PORT, [IPV6]:PORT, unix:PATH or fd://N (repeatable; "
     "replaces --host/--port unless they are given too)"},
    {{"unix-socket-mode", required_argument, NULL, OPT_UNIX_SOCKET_MODE}, "MODE",
     "permissions of unix:PATH sockets, in octal (default 0660)"},
    {{"config", required_argument, NULL, OPT_CONFIG}, "FILE",
     "read options from FILE (name = value lines, # comments); the command line wins"},
    {{"processes", required_argument, NULL, 's'}, "N",
     "number of child processes (default: one per CPU core)"},
    {{"threads", required_argument, NULL, 't'}, "N",
     "Python threads per process that run the app (default 4); 0: green mode, "
     "a greenlet per request on gevent"},
    {{"deadman-timeout", required_argument, NULL, OPT_DEADMAN_TIMEOUT}, "SECONDS",
     "how long a stopping child may finish its requests, and how long a child may "
     "miss heartbeats, before it is killed (default 10)"},
    {{"graceful-timeout", required_argument, NULL, OPT_GRACEFUL_TIMEOUT}, "SECONDS",
     "the same as --deadman-timeout"},
    {{"shutdown-delay", required_argument, NULL, OPT_SHUTDOWN_DELAY}, "SECONDS",
     "on a graceful stop, answer 503 on /healthz for this long before the listening "
     "sockets close, so load balancers stop sending first (default 0)"},
    {{"reload", required_argument, NULL, OPT_RELOAD}, "MODE",
     "dev: reload gracefully within a second when an imported source file changes"},
    {{"watch", required_argument, NULL, 'w'}, "FILE",
     "with --reload=dev, also watch FILE (repeatable)"},
    {{"max-memory", required_argument, NULL, 'm'}, "SIZE",
     "replace children gracefully while their summed memory passes SIZE "
     "(MB, or K/M/G suffix; default 0: no limit)"},
    {{"max-age", required_argument, NULL, 'a'}, "SECONDS",
     "replace a child gracefully once it is this old (staggered; default 0: never)"},
    {{"max-requests", required_argument, NULL, OPT_MAX_REQUESTS}, "N",
     "replace a child gracefully after it served N requests (default 0: never)"},
    {{"max-requests-jitter", required_argument, NULL, OPT_MAX_REQUESTS_JITTER}, "J",
     "add a random 0..J to each child's --max-requests"},
    {{"timeout", required_argument, NULL, OPT_TIMEOUT}, "SECONDS",
     "replace a child whose request runs longer than this (default 0: off)"},
    {{"pidfile", required_argument, NULL, OPT_PIDFILE}, "FILE", "write the controller's pid here"},
    {{"daemonize", no_argument, NULL, 'd'}, NULL, "detach from the terminal and run in the background"},
    {{"stdout", required_argument, NULL, OPT_STDOUT}, "FILE",
     "append standard output (the app's prints) to FILE; reopened on SIGUSR1"},
    {{"stderr", required_argument, NULL, OPT_STDERR}, "FILE",
     "append standard error (the error log) to FILE; reopened on SIGUSR1"},
    {{"access-log-file", required_argument, NULL, 'l'}, "FILE",
     "append the access log to FILE (default: standard output; /dev/null: off); "
     "reopened on SIGUSR1"},
    {{"access-log-format", required_argument, NULL, OPT_ACCESS_LOG_FORMAT}, "FORMAT",
     "access log line, gunicorn-style atoms: %(h)s %(t)s \"%(r)s\" %(s)s %(b)s "
     "%({Header}i)s ... (default: Apache combined plus %(L)s, the seconds taken; see README)"},
    {{"chuid", required_argument, NULL, 'u'}, "USER[:GROUP]",
     "after binding, run as USER (and GROUP): bind port 80 as root, serve as a user"},
    {{"chdir", required_argument, NULL, OPT_CHDIR}, "DIR",
     "change to DIR before loading the app (DIR is put on sys.path)"},
    {{"pythonpath", required_argument, NULL, OPT_PYTHONPATH}, "DIR",
     "add DIR to the front of sys.path (repeatable)"},
    {{"factory", required_argument, NULL, 'f'}, "DOTTED",
     "load the app through the config factory DOTTED, called with the options and the "
     "positional ARGS (spawning.paste_factory.config_factory INI, "
     "spawning.django_factory.config_factory SETTINGS, ...; see README)"},
    {{"virtualenv", required_argument, NULL, OPT_VIRTUALENV}, "DIR",
     "add the virtualenv DIR's site-packages to the interpreter"},
    {{"coverage", no_argument, NULL, 'c'}, NULL,
     "debugging aid, never in production: measure the app's coverage, report at /_coverage"},
    {{"sysinfo", no_argument, NULL, OPT_SYSINFO}, NULL,
     "debugging aid, never in production: platform, Python and sys.path as JSON at /_sysinfo"},
    {{"limit-request-line", required_argument, NULL, OPT_LIMIT_REQUEST_LINE}, "BYTES",
     "longest request line, else 414 (default 8190; 0: no limit)"},
    {{"limit-request-fields", required_argument, NULL, OPT_LIMIT_REQUEST_FIELDS}, "N",
     "most header fields in a request, else 431 (default 100, at most 32768)"},
    {{"limit-request-field-size", required_argument, NULL, OPT_LIMIT_REQUEST_FIELD_SIZE},
     "BYTES", "largest header field, else 431 (default 8190; 0: no limit)"},
    {{"limit-request-body", required_argument, NULL, OPT_LIMIT_REQUEST_BODY}, "SIZE",
     "largest request body (K, M, G suffixes), else 413 (default 0: no limit)"},
    {{"header-timeout", required_argument, NULL, OPT_HEADER_TIMEOUT}, "SECONDS",
     "time a client has to send a complete request head (default 30)"},
    {{"keepalive", required_argument, NULL, OPT_KEEPALIVE}, "SECONDS",
     "how long an idle keep-alive connection is kept (default 75; 0: no keep-alive)"},
    {{"no-keepalive", no_argument, NULL, OPT_NO_KEEPALIVE}, NULL,
     "close every connection after one response"},
    {{"body-timeout", required_argument, NULL, OPT_BODY_TIMEOUT}, "SECONDS",
     "longest wait for the next request body bytes or for the client to read (default 30)"},
    {{"forwarded-allow-ips", required_argument, NULL, OPT_FORWARDED_ALLOW_IPS}, "LIST",
     "proxies (comma-separated IPs, or *) whose Forwarded / X-Forwarded-For / "
     "X-Forwarded-Proto set REMOTE_ADDR and wsgi.url_scheme (default 127.0.0.1,::1)"},
    {{"admin-socket", required_argument, NULL, OPT_ADMIN_SOCKET}, "PATH",
     "spawnctl's UNIX socket (default $XDG_RUNTIME_DIR/spawning-PORT.sock, "
     "else /tmp/spawning-PORT.sock; 'none' for no admin socket)"},
    {{"status-port", required_argument, NULL, OPT_STATUS_PORT}, "PORT",
     "serve /status (HTML), /status.json and /healthz on this port (default: off)"},
    {{"status-host", required_argument, NULL, OPT_STATUS_HOST}, "HOST",
     "address of the status service (default: the same as --host)"},
    {{"reuse-port", no_argument, NULL, OPT_REUSE_PORT}, NULL,
     "give each child its own SO_REUSEPORT socket per TCP address (the kernel spreads "
     "connections evenly)"},
    {{"log-level", required_argument, NULL, OPT_LOG_LEVEL}, "LEVEL",
     "debug, info, warning, error or critical (default info)"},
    {{"help", no_argument, NULL, OPT_HELP}, NULL, "show this help and exit"},
    {{"version", no_argument, NULL, OPT_VERSION}, NULL, "show the version and exit"},
};
#define NOPTIONS (sizeof options / sizeof options[0])
_Static_assert(NOPTIONS <= CTL_MAX_OPTIONS, "raise CTL_MAX_OPTIONS");

/* getopt's short options, and those of them that take a value. */
#define SHORT_OPTIONS ":i:p:s:t:w:m:a:du:b:f:cl:"
#define SHORT_OPTIONS_WITH_VALUE "ipstwmaubfl"

static void print_help(const char *prog)
{
    printf("usage: %s [OPTIONS] APP [MIDDLEWARE ...]\n"
           "       %s [OPTIONS] --factory DOTTED [ARGS ...]\n\n"
           "Serve the WSGI application APP (pkg.module.callable or pkg.module:callable).\n"
           "Each MIDDLEWARE is a dotted name of a callable that takes an app and returns\n"
           "an app; the first listed wraps the app first.\n\noptions:\n",
           prog, prog);
    for (size_t i = 0; i < NOPTIONS; i++) {
        const option_doc_t *d = &options[i];
        char left[64];
        int flag = d->opt.val;
        if (flag < 256)
            snprintf(left, sizeof left, "-%c, --%s%s%s", flag, d->opt.name,
                     d->metavar ? " " : "", d->metavar ? d->metavar : "");
        else
            snprintf(left, sizeof left, "    --%s%s%s", d->opt.name, d->metavar ? " " : "",
                     d->metavar ? d->metavar : "");
        printf("  %-30s %s\n", left, d->help);
    }
    printf("\nsignals: HUP graceful reload, TERM graceful stop, INT/QUIT immediate stop,\n"
           "TTIN one more child, TTOU one fewer, USR1 reopen the log files.\n");
}

/* Name of an option for error messages, "--port" or "-p". */
static const char *option_name(int val)
{
    static char buf[40];
    for (size_t i = 0; i < NOPTIONS; i++) {
        if (options[i].opt.val == val) {
            snprintf(buf, sizeof buf, "--%s", options[i].opt.name);
            return buf;
        }
    }
    snprintf(buf, sizeof buf, "-%c", val);
    return buf;
}

/* Parses a whole decimal integer in [lo, hi]. */
static int parse_int(const char *s, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -EINVAL;
    *out = (int)v;
    return 0;
}

static int parse_seconds(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < 0 || v > 1e7)
        return -EINVAL;
    *out = v;
    return 0;
}

/* Parses a size with an optional K, M or G suffix (powers of 1024); a bare
 * number is in units of 2^default_shift bytes (20: megabytes). */
static int parse_size(const char *s, int default_shift, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || v < 0)
        return -EINVAL;
    int shift = default_shift;
    if (*end && !end[1]) {
        const char *units = "KMG";
        const char *u = strchr(units, *end & ~0x20);
        if (!u)
            return -EINVAL;
        shift = 10 * (int)(u - units + 1);
        end++;
    }
    if (*end || v > (LLONG_MAX >> shift))
        return -EINVAL;
    *out = v << shift;
    return 0;
}

static void set_defaults(ctl_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->host = "127.0.0.1";
    cfg->port = 8080;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    cfg->processes = ncpu > 0 ? (int)ncpu : 1;
    cfg->threads = 4;
    cfg->deadman_timeout = 10;
    cfg->log_level = "info";
    cfg->limit_request_line = 8190;
    cfg->limit_request_fields = 100;
    cfg->limit_request_field_size = 8190;
    cfg->header_timeout = 30;
    cfg->keepalive = 75;
    cfg->body_timeout = 30;
    cfg->forwarded_allow_ips = "127.0.0.1,::1";
    cfg->unix_socket_mode = 0660;
}

static int bad_value(int c, const char *arg, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: invalid value '%s'", option_name(c), arg);
    return -EINVAL;
}

/* Applies one parsed option. Returns 0, 1 for "exit 0", or -EINVAL with err. */
static int apply_option(int c, const char *arg, const char *prog, ctl_config_t *cfg, char *err,
                        size_t errlen)
{
    cmn_log_level_t level;
    switch (c) {
    case 'i':
        if (!*arg)
            return bad_value(c, arg, err, errlen);
        cfg->host = arg;
        return 0;
    case 'p':
        if (parse_int(arg, 0, 65535, &cfg->port) < 0) {
            snprintf(err, errlen, "%s: '%s' is not a valid port (0-65535)", option_name(c), arg);
            return -EINVAL;
        }
        return 0;
    case 's':
        if (parse_int(arg, 1, 1024, &cfg->processes) < 0) {
            snprintf(err, errlen, "%s: '%s' is not a number of processes (1-1024)",
                     option_name(c), arg);
            return -EINVAL;
        }
        return 0;
    case 't':
        if (parse_int(arg, 0, 1024, &cfg->threads) < 0) {
            snprintf(err, errlen, "%s: '%s' is not a number of threads (0-1024)", option_name(c),
                     arg);
            return -EINVAL;
        }
        return 0;
    case OPT_GRACEFUL_TIMEOUT:
    case OPT_DEADMAN_TIMEOUT:
        return parse_seconds(arg, &cfg->deadman_timeout) < 0 ? bad_value(c, arg, err, errlen) : 0;
    case OPT_SHUTDOWN_DELAY:
        return parse_seconds(arg, &cfg->shutdown_delay) < 0 ? bad_value(c, arg, err, errlen) : 0;
    case OPT_RELOAD:
        if (strcmp(arg, "dev") != 0 && strcmp(arg, "off") != 0)
            return bad_value(c, arg, err, errlen);
        cfg->reload_dev = strcmp(arg, "dev") == 0;
        return 0;
    case 'w':
        if (cfg->nwatch == CTL_MAX_LIST)
            return bad_value(c, arg, err, errlen);
        cfg->watch[cfg->nwatch++] = arg;
        return 0;
    case 'm':
        return parse_size(arg, 20, &cfg->max_memory) < 0 ? bad_value(c, arg, err, errlen) : 0;
    case 'a':
        return parse_seconds(arg, &cfg->max_age) < 0 ? bad_value(c, arg, err, errlen) : 0;
    case OPT_MAX_REQUESTS:
        return parse_size(arg, 0, &cfg->max_requests) < 0 ? bad_value(c, arg, err, errlen) : 0;
    case OPT_MAX_REQUESTS_JITTER:
        return parse_size(arg, 0, &cfg->max_requests_jitter) < 0 ? bad_value(c, arg, err, errlen) : 0;
    case OPT_TIMEOUT:
        return parse_seconds(arg, &cfg->timeout) < 0 ? bad_value(c, arg, err, errlen) : 0;
    case OPT_PIDFILE:
        cfg->pidfile = arg;
        return 0;
    case 'd':
        cfg->daemonize = true;
        return 0;
    case OPT_STDOUT:
        cfg->stdout_path = arg;
        return 0;
    case OPT_STDERR:
        cfg->stderr_path = arg;
        return 0;
    case 'l':
        if (!*arg)
            return bad_value(c, arg, err, errlen);
        cfg->access_log = arg;
        return 0;
    case OPT_ACCESS_LOG_FORMAT: {
        cmn_accessfmt_t fmt; /* compiled here only to reject a bad one at start */
        char why[160];
        if (cmn_accessfmt_compile(arg, &fmt, why, sizeof why) < 0) {
            snprintf(err, errlen, "%s: %s", option_name(c), why);
            return -EINVAL;
        }
        cmn_accessfmt_free(&fmt);
        cfg->access_log_format = arg;
        return 0;
    }
    case 'u':
        if (!*arg)
            return bad_value(c, arg, err, errlen);
        cfg->chuid = arg;
        return 0;
    case 'f':
        if (!*arg)
            return bad_value(c, arg, err, errlen);
        cfg->factory = arg;
        return 0;
    case OPT_VIRTUALENV:
        if (!*arg)
            return bad_value(c, arg, err, errlen);
        cfg->virtualenv = arg;
        return 0;
    case 'c':
        cfg->coverage = true;
        return 0;
    case OPT_SYSINFO:
        cfg->sysinfo = true;
        return 0;
    case OPT_CHDIR:
        cfg->chdir = arg;
        return 0;
    case OPT_PYTHONPATH:
        if (cfg->npythonpath == CTL_MAX_LIST) {
            snprintf(err, errlen, "%s: at most %d entries", option_name(c), CTL_MAX_LIST);
            return -EINVAL;
        }
        cfg->pythonpath[cfg->npythonpath++] = arg;
        return 0;
    case OPT_LIMIT_REQUEST_LINE:
        return parse_int(arg, 0, 1 << 20, &cfg->limit_request_line) < 0 ? bad_value(c, arg, err, errlen) : 0;
    case OPT_LIMIT_REQUEST_FIELDS:
        return parse_int(arg, 1, 32768, &cfg->limit_request_fields) < 0 ? bad_value(c, arg, err, errlen) : 0;
    case OPT_LIMIT_REQUEST_FIELD_SIZE:
        return parse_int(arg, 0, 1 << 20, &cfg->limit_request_field_size) < 0 ? bad_value(c, arg, err, errlen) : 0;
    case OPT_LIMIT_REQUEST_BODY:
        return parse_size(arg, 0, &cfg->limit_request_body) < 0 ? bad_value(c, arg, err, errlen) : 0;
    case OPT_HEADER_TIMEOUT:
        return parse_seconds(arg, &cfg->header_timeout) < 0 || cfg->header_timeout <= 0 ? bad_value(c, arg, err, errlen) : 0;
    case OPT_KEEPALIVE:
        return parse_seconds(arg, &cfg->keepalive) < 0 ? bad_value(c, arg, err, errlen) : 0;
    case OPT_NO_KEEPALIVE:
        cfg->keepalive = 0;
        return 0;
    case OPT_BODY_TIMEOUT:
        return parse_seconds(arg, &cfg->body_timeout) < 0 || cfg->body_timeout <= 0 ? bad_value(c, arg, err, errlen) : 0;
    case OPT_FORWARDED_ALLOW_IPS: {
        cmn_iplist_t list;
        char why[128];
        if (cmn_iplist_parse(arg, &list, why, sizeof why) < 0) {
            snprintf(err, errlen, "%s: %s", option_name(c), why);
            return -EINVAL;
        }
        cfg->forwarded_allow_ips = arg;
        return 0;
    }
    case OPT_ADMIN_SOCKET:
        if (!*arg)
            return bad_value(c, arg, err, errlen);
        cfg->admin_socket = arg;
        return 0;
    case OPT_STATUS_PORT:
        return parse_int(arg, 1, 65535, &cfg->status_port) < 0 ? bad_value(c, arg, err, errlen) : 0;
    case OPT_STATUS_HOST:
        if (!*arg)
            return bad_value(c, arg, err, errlen);
        cfg->status_host = arg;
        return 0;
    case OPT_REUSE_PORT:
        cfg->reuse_port = true;
        return 0;
    case 'b': {
        ctl_bind_t parsed;
        char why[300];
        if (ctl_bind_parse(arg, &parsed, why, sizeof why) < 0) {
            snprintf(err, errlen, "%s: %s", option_name(c), why);
            return -EINVAL;
        }
        if (cfg->nbind == CTL_MAX_BINDS) {
            snprintf(err, errlen, "%s: at most %d addresses", option_name(c), CTL_MAX_BINDS);
            return -EINVAL;
        }
        cfg->bind[cfg->nbind++] = arg;
        return 0;
    }
    case OPT_UNIX_SOCKET_MODE: {
        char *end;
        errno = 0;
        long mode = strtol(arg, &end, 8);
        if (errno || end == arg || *end || mode < 0 || mode > 0777)
            return bad_value(c, arg, err, errlen);
        cfg->unix_socket_mode = (int)mode;
        return 0;
    }
    case OPT_CONFIG:
        /* The file was read before the command line (ctl_options_parse);
         * getopt also accepts abbreviations, which that first look missed. */
        if (!cfg->config_file || strcmp(cfg->config_file, arg) != 0) {
            snprintf(err, errlen, "--config: give it once, spelt out, as --config FILE");
            return -EINVAL;
        }
        return 0;
    case OPT_LOG_LEVEL:
        if (cmn_log_parse_level(arg, &level) < 0)
            return bad_value(c, arg, err, errlen);
        cfg->log_level = arg;
        return 0;
    case OPT_HELP:
        print_help(prog);
        return 1;
    case OPT_VERSION:
        printf("spawning %s\n", SPAWNING_VERSION);
        return 1;
    default:
        snprintf(err, errlen, "unknown option");
        return -EINVAL;
    }
}

/* Where a setting comes from; each one outranks the one before it. */
typedef enum { FROM_DEFAULT, FROM_FILE, FROM_COMMAND_LINE } setting_source_t;

static int option_index(int val)
{
    for (size_t i = 0; i < NOPTIONS; i++)
        if (options[i].opt.val == val)
            return (int)i;
    return -1;
}

/* The option called `name` (long name; '_' may stand for '-'), or -1. */
static int option_by_name(const char *name)
{
    char normal[64];
    size_t n = strlen(name);
    if (n >= sizeof normal)
        return -1;
    for (size_t i = 0; i <= n; i++)
        normal[i] = name[i] == '_' ? '-' : name[i];
    for (size_t i = 0; i < NOPTIONS; i++)
        if (strcmp(options[i].opt.name, normal) == 0)
            return (int)i;
    return -1;
}

/* The repeatable options: a later source replaces an earlier one's list. */
static bool clear_list(int c, ctl_config_t *cfg)
{
    switch (c) {
    case 'w':
        cfg->nwatch = 0;
        return true;
    case 'b':
        cfg->nbind = 0;
        return true;
    case OPT_PYTHONPATH:
        cfg->npythonpath = 0;
        return true;
    default:
        return false;
    }
}

/* The bool a flag sets, so a config file can also say "false". */
static bool *flag_field(int c, ctl_config_t *cfg)
{
    switch (c) {
    case 'd':
        return &cfg->daemonize;
    case OPT_REUSE_PORT:
        return &cfg->reuse_port;
    case 'c':
        return &cfg->coverage;
    case OPT_SYSINFO:
        return &cfg->sysinfo;
    default:
        return NULL;
    }
}

static int parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"}, *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0 || strcasecmp(s, no[i]) == 0) {
            *out = strcasecmp(s, yes[i]) == 0;
            return 0;
        }
    }
    return -EINVAL;
}

/* A flag's value from a config file or a default: true applies it, false
 * clears what it sets. */
static int apply_flag_value(int c, const char *value, ctl_config_t *cfg, char *err, size_t errlen)
{
    bool on = true;
    if (value && *value && parse_bool(value, &on) < 0) {
        snprintf(err, errlen, "%s: '%s' is not true or false", option_name(c), value);
        return -EINVAL;
    }
    if (on)
        return apply_option(c, NULL, "spawning", cfg, err, errlen);
    bool *field = flag_field(c, cfg);
    if (field)
        *field = false;
    return 0;
}

/* Applies option number idx of the table from `source`. Returns 0, 1 when
 * skipped (a default for an option set explicitly) or when --help/--version
 * printed, or -EINVAL with err. */
static int apply_from(int idx, const char *value, setting_source_t source, ctl_config_t *cfg,
                      char *err, size_t errlen)
{
    int c = options[idx].opt.val;
    if (source == FROM_DEFAULT && cfg->set_explicitly[idx])
        return 1;
    if (source == FROM_COMMAND_LINE && cfg->list_from_file[idx] && clear_list(c, cfg))
        cfg->list_from_file[idx] = false;
    int rc;
    if (source != FROM_COMMAND_LINE && options[idx].opt.has_arg == no_argument)
        rc = apply_flag_value(c, value, cfg, err, errlen);
    else
        rc = apply_option(c, value, "spawning", cfg, err, errlen);
    if (rc == 0 && source != FROM_DEFAULT)
        cfg->set_explicitly[idx] = true;
    if (rc == 0 && source == FROM_FILE)
        cfg->list_from_file[idx] = true;
    return rc;
}

bool ctl_options_was_set(const ctl_config_t *cfg, const char *name)
{
    int idx = option_by_name(name);
    return idx >= 0 && cfg->set_explicitly[idx];
}

int ctl_options_apply_default(ctl_config_t *cfg, const char *name, const char *value, char *err,
                              size_t errlen)
{
    int idx = option_by_name(name);
    if (idx < 0 || options[idx].opt.val == OPT_HELP || options[idx].opt.val == OPT_VERSION ||
        options[idx].opt.val == OPT_CONFIG) {
        snprintf(err, errlen, "unknown option '%s'", name);
        return -EINVAL;
    }
    return apply_from(idx, value, FROM_DEFAULT, cfg, err, errlen);
}

/* Describes the option getopt just rejected, for the one-line error. */
static void describe_bad_option(int c, int argc, char **argv, char *err, size_t errlen)
{
    const char *word = optind - 1 < argc ? argv[optind - 1] : "?";
    if (c == ':')
        snprintf(err, errlen, "%s: needs a value", optopt ? option_name(optopt) : word);
    else if (optopt && optopt < 256 && !strchr(SHORT_OPTIONS_WITH_VALUE, optopt))
        snprintf(err, errlen, "-%c: unknown option", optopt);
    else
        snprintf(err, errlen, "%s: unknown option", word);
}

/* --- the config file ---------------------------------------------------- */

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        *--end = '\0';
    return s;
}

/* "app = APP [MIDDLEWARE ...]": the positional arguments. */
static int apply_file_app(char *value, ctl_config_t *cfg, char *err, size_t errlen)
{
    cfg->app = NULL;
    cfg->nmiddleware = 0;
    for (char *save = NULL, *word = strtok_r(value, " \t", &save); word;
         word = strtok_r(NULL, " \t", &save)) {
        if (!cfg->app) {
            cfg->app = word;
        } else if (cfg->nmiddleware == CTL_MAX_LIST) {
            snprintf(err, errlen, "app: at most %d middlewares", CTL_MAX_LIST);
            return -EINVAL;
        } else {
            cfg->middleware[cfg->nmiddleware++] = word;
        }
    }
    if (!cfg->app) {
        snprintf(err, errlen, "app: needs a value");
        return -EINVAL;
    }
    cfg->app_from_file = true;
    return 0;
}

/* One "name = value" line (already trimmed, not a comment). */
static int apply_file_line(char *line, ctl_config_t *cfg, char *err, size_t errlen)
{
    char *eq = strchr(line, '=');
    if (!eq) {
        snprintf(err, errlen, "expected 'name = value'");
        return -EINVAL;
    }
    *eq = '\0';
    char *name = trim(line), *value = trim(eq + 1);
    size_t vlen = strlen(value);
    if (vlen >= 2 && (value[0] == '"' || value[0] == '\'') && value[vlen - 1] == value[0]) {
        value[vlen - 1] = '\0';
        value++;
    }
    if (strcmp(name, "app") == 0)
        return apply_file_app(value, cfg, err, errlen);
    int idx = option_by_name(name);
    int c = idx < 0 ? 0 : options[idx].opt.val;
    if (idx < 0 || c == OPT_HELP || c == OPT_VERSION || c == OPT_CONFIG) {
        snprintf(err, errlen, "unknown option '%s'", name);
        return -EINVAL;
    }
    if (options[idx].opt.has_arg != no_argument && !*value) {
        snprintf(err, errlen, "%s: needs a value", option_name(c));
        return -EINVAL;
    }
    return apply_from(idx, value, FROM_FILE, cfg, err, errlen);
}

#define CONFIG_FILE_MAX (1 << 20)

static int read_whole_file(const char *path, char **out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        snprintf(err, errlen, "--config: cannot read '%s': %s", path, strerror(errno));
        return -EINVAL;
    }
    char *text = malloc(CONFIG_FILE_MAX + 1);
    size_t n = text ? fread(text, 1, CONFIG_FILE_MAX + 1, f) : 0;
    bool failed = !text || ferror(f) || n > CONFIG_FILE_MAX;
    fclose(f);
    if (failed) {
        snprintf(err, errlen, "--config: cannot read '%s': %s", path,
                 text ? "larger than 1 MiB, or a read error" : "out of memory");
        free(text);
        return -EINVAL;
    }
    text[n] = '\0';
    *out = text;
    return 0;
}

static int load_config_file(const char *path, ctl_config_t *cfg, char *err, size_t errlen)
{
    cfg->config_file = path;
    if (read_whole_file(path, &cfg->config_text, err, errlen) < 0)
        return -EINVAL;
    int lineno = 0;
    char *rest = cfg->config_text, *line;
    while ((line = strsep(&rest, "\n"))) {
        lineno++;
        line = trim(line);
        if (!*line || *line == '#')
            continue;
        char why[400];
        if (apply_file_line(line, cfg, why, sizeof why) < 0) {
            snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
            return -EINVAL;
        }
    }
    return 0;
}

/* The FILE of --config FILE / --config=FILE in argv, or NULL (a missing
 * value is left to getopt to report). */
static const char *find_config_argument(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return NULL;
        if (strcmp(argv[i], "--config") == 0)
            return i + 1 < argc ? argv[i + 1] : NULL;
        if (strncmp(argv[i], "--config=", 9) == 0)
            return argv[i] + 9;
    }
    return NULL;
}

/* --- the command line --------------------------------------------------- */

static ctl_options_result_t parse_command_line(int argc, char **argv, ctl_config_t *cfg,
                                               char *err, size_t errlen)
{
    struct option longopts[NOPTIONS + 1];
    for (size_t i = 0; i < NOPTIONS; i++)
        longopts[i] = options[i].opt;
    memset(&longopts[NOPTIONS], 0, sizeof longopts[NOPTIONS]);
    opterr = 0;
    optind = 0; /* 0, not 1: also resets glibc's scan of grouped short options */
    int c;
    while ((c = getopt_long(argc, argv, SHORT_OPTIONS, longopts, NULL)) != -1) {
        if (c == '?' || c == ':') {
            describe_bad_option(c, argc, argv, err, errlen);
            return CTL_OPTIONS_USAGE;
        }
        int rc = apply_from(option_index(c), optarg, FROM_COMMAND_LINE, cfg, err, errlen);
        if (rc == 1)
            return CTL_OPTIONS_EXIT_OK;
        if (rc < 0)
            return CTL_OPTIONS_USAGE;
    }
    if (optind < argc) {
        cfg->app = argv[optind++];
        cfg->nmiddleware = 0;
        cfg->app_from_file = false;
    }
    for (; optind < argc; optind++) {
        if (cfg->nmiddleware == CTL_MAX_LIST) {
            snprintf(err, errlen, "MIDDLEWARE: at most %d", CTL_MAX_LIST);
            return CTL_OPTIONS_USAGE;
        }
        cfg->middleware[cfg->nmiddleware++] = argv[optind];
    }
    return CTL_OPTIONS_RUN;
}

/* Checks across options, once every source has been applied. */
static ctl_options_result_t check_config(const ctl_config_t *cfg, char *err, size_t errlen)
{
    if (!cfg->app && !cfg->factory) {
        snprintf(err, errlen, "APP: missing; usage: spawning [OPTIONS] APP [MIDDLEWARE ...]");
        return CTL_OPTIONS_USAGE;
    }
    if (cfg->status_port && cfg->status_port == cfg->port &&
        (!cfg->status_host || strcmp(cfg->status_host, cfg->host) == 0)) {
        snprintf(err, errlen, "--status-port: %d is the serving port", cfg->port);
        return CTL_OPTIONS_USAGE;
    }
    return CTL_OPTIONS_RUN;
}

ctl_options_result_t ctl_options_parse(int argc, char **argv, ctl_config_t *cfg, char *err,
                                       size_t errlen)
{
    set_defaults(cfg);
    const char *config_path = find_config_argument(argc, argv);
    if (config_path && load_config_file(config_path, cfg, err, errlen) < 0)
        return CTL_OPTIONS_USAGE;
    ctl_options_result_t rc = parse_command_line(argc, argv, cfg, err, errlen);
    return rc == CTL_OPTIONS_RUN ? check_config(cfg, err, errlen) : rc;
}

void ctl_options_free(ctl_config_t *cfg)
{
    free(cfg->config_text);
    cfg->config_text = NULL;
}

static json_t *string_array(const char *const *items, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_string(items[i]));
    return a;
}

json_t *ctl_options_child_config(const ctl_config_t *cfg, const char *server_name,
                                 int server_port)
{
    json_t *m = json_object();
    json_object_set_new(m, "type", json_string(CMN_MSG_CONFIG));
    json_object_set_new(m, "app", cfg->app ? json_string(cfg->app) : json_null());
    json_object_set_new(m, "middleware", string_array(cfg->middleware, cfg->nmiddleware));
    json_object_set_new(m, "pythonpath", string_array(cfg->pythonpath, cfg->npythonpath));
    json_object_set_new(m, "chdir", cfg->chdir ? json_string(cfg->chdir) : json_null());
    json_object_set_new(m, "threads", json_integer(cfg->threads));
    json_object_set_new(m, "processes", json_integer(cfg->processes));
    json_object_set_new(m, "server_name", json_string(server_name));
    json_object_set_new(m, "server_port", json_integer(server_port));
    json_object_set_new(m, "log_level", json_string(cfg->log_level));
    json_object_set_new(m, "limit_request_line", json_integer(cfg->limit_request_line));
    json_object_set_new(m, "limit_request_fields", json_integer(cfg->limit_request_fields));
    json_object_set_new(m, "limit_request_field_size",
                        json_integer(cfg->limit_request_field_size));
    json_object_set_new(m, "limit_request_body", json_integer(cfg->limit_request_body));
    json_object_set_new(m, "header_timeout", json_real(cfg->header_timeout));
    json_object_set_new(m, "keepalive", json_real(cfg->keepalive));
    json_object_set_new(m, "body_timeout", json_real(cfg->body_timeout));
    json_object_set_new(m, "deadman_timeout", json_real(cfg->deadman_timeout));
    json_object_set_new(m, "forwarded_allow_ips", json_string(cfg->forwarded_allow_ips));
    json_object_set_new(m, "max_requests", json_integer(cfg->max_requests));
    json_object_set_new(m, "report_files", json_boolean(cfg->reload_dev));
    json_object_set_new(m, "stdout", cfg->stdout_path ? json_string(cfg->stdout_path) : json_null());
    json_object_set_new(m, "stderr", cfg->stderr_path ? json_string(cfg->stderr_path) : json_null());
    ctl_factory_child_config(cfg, server_port, m);
    json_object_set_new(m, "access_log", cfg->access_log ? json_string(cfg->access_log) : json_null());
    json_object_set_new(m, "access_log_format",
                        cfg->access_log_format ? json_string(cfg->access_log_format) : json_null());
    return m;
}
