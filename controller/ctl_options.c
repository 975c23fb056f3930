/* ctl_options: see ctl_options.h. */
#include "ctl_options.h"

#include "cmn_accessfmt.h"
#include "cmn_iplist.h"
#include "cmn_log.h"
#include "cmn_version.h"
#include "ctl_bind.h"
#include "ctl_configfile.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* How an option's value is parsed and where it goes. Most options are one
 * of the plain kinds, described entirely by their table row; the few that
 * need more have a function of their own (KIND_SPECIAL). */
typedef enum {
    KIND_FLAG,    /* bool field; true when given */
    KIND_INT,     /* int field, decimal, in [lo, hi] */
    KIND_SECONDS, /* double field, in [lo, hi] (above lo when `positive`) */
    KIND_SIZE,    /* long long field, K/M/G suffixes; a bare number in units of 2^lo bytes */
    KIND_STRING,  /* const char * field (non-empty when `nonempty`) */
    KIND_LIST,    /* const char *field[], count in count_field, at most hi entries */
    KIND_SPECIAL, /* parsed by `apply` */
} option_kind_t;

typedef struct option_spec option_spec_t;

/* A KIND_SPECIAL option: applies arg (NULL for a flag) to cfg. Returns 0,
 * 1 for "done, exit 0" (--help), or -EINVAL with one line in err. */
typedef int (*option_apply_fn)(const option_spec_t *o, const char *arg, ctl_config_t *cfg,
                               char *err, size_t errlen);

struct option_spec {
    const char *name;   /* the long name, also the config file's */
    char short_name;    /* 0: none */
    const char *metavar; /* NULL: a flag */
    option_kind_t kind;
    size_t field;       /* offsetof(ctl_config_t, ...) */
    size_t count_field; /* KIND_LIST: the entry count's offset */
    double lo, hi;      /* ranges (see option_kind_t) */
    bool positive;      /* KIND_SECONDS: 0 is not allowed */
    bool nonempty;      /* KIND_STRING: "" is not allowed */
    const char *what;   /* KIND_INT: what the value is, for the error ("a valid port") */
    option_apply_fn apply;
    const char *help;
};

#define FIELD(f) offsetof(ctl_config_t, f)

static int apply_reload(const option_spec_t *, const char *, ctl_config_t *, char *, size_t);
static int apply_no_keepalive(const option_spec_t *, const char *, ctl_config_t *, char *, size_t);
static int apply_access_log_format(const option_spec_t *, const char *, ctl_config_t *, char *,
                                   size_t);
static int apply_forwarded(const option_spec_t *, const char *, ctl_config_t *, char *, size_t);
static int apply_log_level(const option_spec_t *, const char *, ctl_config_t *, char *, size_t);
static int apply_bind(const option_spec_t *, const char *, ctl_config_t *, char *, size_t);
static int apply_socket_mode(const option_spec_t *, const char *, ctl_config_t *, char *, size_t);
static int apply_config(const option_spec_t *, const char *, ctl_config_t *, char *, size_t);
static int apply_help(const option_spec_t *, const char *, ctl_config_t *, char *, size_t);
static int apply_version(const option_spec_t *, const char *, ctl_config_t *, char *, size_t);

/* Every option, in --help order. */
static const option_spec_t options[] = {
    {.name = "host", .short_name = 'i', .metavar = "HOST", .kind = KIND_STRING,
     .field = FIELD(host), .nonempty = true,
     .help = "address to listen on (IPv4 or IPv6; default 127.0.0.1)"},
    {.name = "port", .short_name = 'p', .metavar = "PORT", .kind = KIND_INT, .field = FIELD(port),
     .lo = 0, .hi = 65535, .what = "a valid port", .help = "TCP port to listen on (default 8080)"},
    {.name = "bind", .short_name = 'b', .metavar = "ADDR", .kind = KIND_SPECIAL,
     .apply = apply_bind, .field = FIELD(bind), .count_field = FIELD(nbind), .hi = CTL_MAX_BINDS,
     .help = "listen on ADDR: HOST:PORT, [IPV6]:PORT, unix:PATH or fd://N (repeatable; "
             "replaces --host/--port unless they are given too)"},
    {.name = "unix-socket-mode", .metavar = "MODE", .kind = KIND_SPECIAL,
     .apply = apply_socket_mode,
     .help = "permissions of unix:PATH sockets, in octal (default 0660)"},
    {.name = "config", .metavar = "FILE", .kind = KIND_SPECIAL, .apply = apply_config,
     .help = "read options from FILE (name = value lines, # comments); the command line wins"},
    {.name = "processes", .short_name = 's', .metavar = "N", .kind = KIND_INT,
     .field = FIELD(processes), .lo = 1, .hi = 1024, .what = "a number of processes",
     .help = "number of child processes (default: one per CPU core)"},
    {.name = "threads", .short_name = 't', .metavar = "N", .kind = KIND_INT,
     .field = FIELD(threads), .lo = 0, .hi = 1024, .what = "a number of threads",
     .help = "Python threads per process that run the app (default 4); 0: green mode, "
             "a greenlet per request on gevent"},
    {.name = "graceful-timeout", .metavar = "SECONDS", .kind = KIND_SECONDS,
     .field = FIELD(graceful_timeout), .hi = 1e7,
     .help = "how long a stopping child (TERM, reload, replacement) may finish its requests "
             "before it is killed (default 30)"},
    {.name = "deadman-timeout", .metavar = "SECONDS", .kind = KIND_SECONDS,
     .field = FIELD(deadman_timeout), .hi = 1e7,
     .help = "how long a child may miss heartbeats before it is killed (default 10)"},
    {.name = "shutdown-delay", .metavar = "SECONDS", .kind = KIND_SECONDS,
     .field = FIELD(shutdown_delay), .hi = 1e7,
     .help = "on a graceful stop, answer 503 on /healthz for this long before the listening "
             "sockets close, so load balancers stop sending first (default 0)"},
    {.name = "reload", .metavar = "MODE", .kind = KIND_SPECIAL, .apply = apply_reload,
     .help = "dev: reload gracefully within a second when an imported source file changes"},
    {.name = "watch", .short_name = 'w', .metavar = "FILE", .kind = KIND_LIST,
     .field = FIELD(watch), .count_field = FIELD(nwatch), .hi = CTL_MAX_LIST,
     .help = "with --reload=dev, also watch FILE (repeatable)"},
    {.name = "max-memory", .short_name = 'm', .metavar = "SIZE", .kind = KIND_SIZE,
     .field = FIELD(max_memory), .lo = 20,
     .help = "replace children gracefully while their summed memory passes SIZE "
             "(MB, or K/M/G suffix; default 0: no limit)"},
    {.name = "max-age", .short_name = 'a', .metavar = "SECONDS", .kind = KIND_SECONDS,
     .field = FIELD(max_age), .hi = 1e7,
     .help = "replace a child gracefully once it is this old (staggered; default 0: never)"},
    {.name = "max-requests", .metavar = "N", .kind = KIND_SIZE, .field = FIELD(max_requests),
     .help = "replace a child gracefully after it served N requests (default 0: never)"},
    {.name = "max-requests-jitter", .metavar = "J", .kind = KIND_SIZE,
     .field = FIELD(max_requests_jitter),
     .help = "add a random 0..J to each child's --max-requests"},
    {.name = "timeout", .metavar = "SECONDS", .kind = KIND_SECONDS, .field = FIELD(timeout),
     .hi = 1e7, .help = "answer 504 to a request running longer than this, log its Python stack and "
                         "replace its child (default 0: off)"},
    {.name = "pidfile", .metavar = "FILE", .kind = KIND_STRING, .field = FIELD(pidfile),
     .help = "write the controller's pid here"},
    {.name = "daemonize", .short_name = 'd', .kind = KIND_FLAG, .field = FIELD(daemonize),
     .help = "detach from the terminal and run in the background"},
    {.name = "stdout", .metavar = "FILE", .kind = KIND_STRING, .field = FIELD(stdout_path),
     .help = "append standard output (the app's prints) to FILE; reopened on SIGUSR1"},
    {.name = "stderr", .metavar = "FILE", .kind = KIND_STRING, .field = FIELD(stderr_path),
     .help = "append standard error (the error log) to FILE; reopened on SIGUSR1"},
    {.name = "access-log-file", .short_name = 'l', .metavar = "FILE", .kind = KIND_STRING,
     .field = FIELD(access_log), .nonempty = true,
     .help = "append the access log to FILE (default: standard output; /dev/null: off); "
             "reopened on SIGUSR1"},
    {.name = "access-log-format", .metavar = "FORMAT", .kind = KIND_SPECIAL,
     .apply = apply_access_log_format,
     .help = "access log line, gunicorn-style atoms: %(h)s %(t)s \"%(r)s\" %(s)s %(b)s "
             "%({Header}i)s ... (default: Apache combined plus %(L)s, the seconds taken; "
             "see README)"},
    {.name = "chuid", .short_name = 'u', .metavar = "USER[:GROUP]", .kind = KIND_STRING,
     .field = FIELD(chuid), .nonempty = true,
     .help = "after binding, run as USER (and GROUP): bind port 80 as root, serve as a user"},
    {.name = "chdir", .metavar = "DIR", .kind = KIND_STRING, .field = FIELD(chdir),
     .help = "change to DIR before loading the app (DIR is put on sys.path)"},
    {.name = "pythonpath", .metavar = "DIR", .kind = KIND_LIST, .field = FIELD(pythonpath),
     .count_field = FIELD(npythonpath), .hi = CTL_MAX_LIST,
     .help = "add DIR to the front of sys.path (repeatable)"},
    {.name = "factory", .short_name = 'f', .metavar = "DOTTED", .kind = KIND_STRING,
     .field = FIELD(factory), .nonempty = true,
     .help = "load the app through the config factory DOTTED, called with the options and the "
             "positional ARGS (spawning.paste_factory.config_factory INI, "
             "spawning.django_factory.config_factory SETTINGS, ...; see README)"},
    {.name = "virtualenv", .metavar = "DIR", .kind = KIND_STRING, .field = FIELD(virtualenv),
     .nonempty = true, .help = "add the virtualenv DIR's site-packages to the interpreter"},
    {.name = "coverage", .short_name = 'c', .kind = KIND_FLAG, .field = FIELD(coverage),
     .help = "debugging aid, never in production: measure the app's coverage, report at "
             "/_coverage"},
    {.name = "sysinfo", .kind = KIND_FLAG, .field = FIELD(sysinfo),
     .help = "debugging aid, never in production: platform, Python and sys.path as JSON at "
             "/_sysinfo"},
    {.name = "limit-request-line", .metavar = "BYTES", .kind = KIND_INT,
     .field = FIELD(limit_request_line), .lo = 0, .hi = 1 << 20,
     .help = "longest request line, else 414 (default 8190; 0: no limit)"},
    {.name = "limit-request-fields", .metavar = "N", .kind = KIND_INT,
     .field = FIELD(limit_request_fields), .lo = 1, .hi = 32768,
     .help = "most header fields in a request, else 431 (default 100, at most 32768)"},
    {.name = "limit-request-field-size", .metavar = "BYTES", .kind = KIND_INT,
     .field = FIELD(limit_request_field_size), .lo = 0, .hi = 1 << 20,
     .help = "largest header field, else 431 (default 8190; 0: no limit)"},
    {.name = "limit-request-body", .metavar = "SIZE", .kind = KIND_SIZE,
     .field = FIELD(limit_request_body),
     .help = "largest request body (K, M, G suffixes), else 413 (default 0: no limit)"},
    {.name = "header-timeout", .metavar = "SECONDS", .kind = KIND_SECONDS,
     .field = FIELD(header_timeout), .hi = 1e7, .positive = true,
     .help = "time a client has to send a complete request head (default 30)"},
    {.name = "keepalive", .metavar = "SECONDS", .kind = KIND_SECONDS, .field = FIELD(keepalive),
     .hi = 1e7,
     .help = "how long an idle keep-alive connection is kept (default 75; 0: no keep-alive)"},
    {.name = "no-keepalive", .kind = KIND_SPECIAL, .apply = apply_no_keepalive,
     .help = "close every connection after one response"},
    {.name = "body-timeout", .metavar = "SECONDS", .kind = KIND_SECONDS,
     .field = FIELD(body_timeout), .hi = 1e7, .positive = true,
     .help = "longest wait for the next request body bytes or for the client to read "
             "(default 30)"},
    {.name = "forwarded-allow-ips", .metavar = "LIST", .kind = KIND_SPECIAL,
     .apply = apply_forwarded,
     .help = "proxies (comma-separated IPs, or *) whose Forwarded / X-Forwarded-For / "
             "X-Forwarded-Proto set REMOTE_ADDR and wsgi.url_scheme (default 127.0.0.1,::1)"},
    {.name = "proxy-protocol", .kind = KIND_FLAG, .field = FIELD(proxy_protocol),
     .help = "connections from --forwarded-allow-ips peers and UNIX sockets must start with a "
             "PROXY protocol v1 or v2 header (HAProxy send-proxy, cloud TCP load balancers), "
             "whose client address becomes REMOTE_ADDR (on https:// addresses before the TLS "
             "handshake); see README"},
    {.name = "admin-socket", .metavar = "PATH", .kind = KIND_STRING, .field = FIELD(admin_socket),
     .nonempty = true,
     .help = "spawnctl's UNIX socket (default $XDG_RUNTIME_DIR/spawning-PORT.sock, "
             "else /tmp/spawning-PORT.sock; 'none' for no admin socket)"},
    {.name = "status-port", .metavar = "PORT", .kind = KIND_INT, .field = FIELD(status_port),
     .lo = 1, .hi = 65535,
     .help = "serve /status (HTML), /status.json and /healthz on this port (default: off)"},
    {.name = "status-host", .metavar = "HOST", .kind = KIND_STRING, .field = FIELD(status_host),
     .nonempty = true, .help = "address of the status service (default: the same as --host)"},
    {.name = "reuse-port", .kind = KIND_FLAG, .field = FIELD(reuse_port),
     .help = "give each child its own SO_REUSEPORT socket per TCP address (the kernel spreads "
             "connections evenly)"},
    {.name = "certfile", .metavar = "FILE", .kind = KIND_LIST, .field = FIELD(certfile),
     .count_field = FIELD(ncertfile), .hi = CTL_MAX_CERTS,
     .help = "TLS certificate (PEM, with its chain) for https:// addresses, or for every TCP "
             "address when none says https://; repeatable: the client's SNI name picks one, "
             "the first is the default"},
    {.name = "keyfile", .metavar = "FILE", .kind = KIND_LIST, .field = FIELD(keyfile),
     .count_field = FIELD(nkeyfile), .hi = CTL_MAX_CERTS,
     .help = "the private key of each --certfile, in the same order (none: the keys are inside "
             "the certificate files)"},
    {.name = "ca-certs", .metavar = "FILE", .kind = KIND_STRING, .field = FIELD(ca_certs),
     .nonempty = true,
     .help = "CA certificates (PEM) that client certificates are checked against; clients "
             "may then present one (mutual TLS)"},
    {.name = "verify-client", .kind = KIND_FLAG, .field = FIELD(verify_client),
     .help = "with --ca-certs: a client certificate is required, not just checked"},
    {.name = "ciphers", .metavar = "LIST", .kind = KIND_STRING, .field = FIELD(ciphers),
     .nonempty = true,
     .help = "OpenSSL cipher list for TLS 1.2 (default: ECDHE with AES-GCM or ChaCha20 only; "
             "TLS 1.3 suites are always on)"},
    {.name = "log-level", .metavar = "LEVEL", .kind = KIND_SPECIAL, .apply = apply_log_level,
     .help = "debug, info, warning, error or critical (default info)"},
    {.name = "help", .kind = KIND_SPECIAL, .apply = apply_help, .help = "show this help and exit"},
    {.name = "version", .kind = KIND_SPECIAL, .apply = apply_version,
     .help = "show the version and exit"},
};
#define NOPTIONS (sizeof options / sizeof options[0])
_Static_assert(NOPTIONS <= CTL_MAX_OPTIONS, "raise CTL_MAX_OPTIONS");

#define LONG_ONLY_BASE 256 /* getopt's value of a long-only option: this + its index */

static bool is_command(const option_spec_t *o)
{
    return o->apply == apply_help || o->apply == apply_version || o->apply == apply_config;
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
    cfg->graceful_timeout = 30;
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

/* --- help and names ------------------------------------------------------ */

static void print_help(void)
{
    printf("usage: spawning [OPTIONS] APP [MIDDLEWARE ...]\n"
           "       spawning [OPTIONS] --factory DOTTED [ARGS ...]\n\n"
           "Serve the WSGI application APP (pkg.module.callable or pkg.module:callable).\n"
           "Each MIDDLEWARE is a dotted name of a callable that takes an app and returns\n"
           "an app; the first listed wraps the app first.\n\noptions:\n");
    for (size_t i = 0; i < NOPTIONS; i++) {
        const option_spec_t *o = &options[i];
        char left[64];
        const char *space = o->metavar ? " " : "", *metavar = o->metavar ? o->metavar : "";
        if (o->short_name)
            snprintf(left, sizeof left, "-%c, --%s%s%s", o->short_name, o->name, space, metavar);
        else
            snprintf(left, sizeof left, "    --%s%s%s", o->name, space, metavar);
        printf("  %-30s %s\n", left, o->help);
    }
    printf("\nsignals: HUP graceful reload, TERM graceful stop, INT/QUIT immediate stop,\n"
           "TTIN one more child, TTOU one fewer, USR1 reopen the log files.\n");
}

/* "--port", for error messages. */
static const char *long_name(const option_spec_t *o)
{
    static char buf[48];
    snprintf(buf, sizeof buf, "--%s", o->name);
    return buf;
}

/* The option called `name` (long name; '_' may stand for '-'), or NULL. */
static const option_spec_t *option_by_name(const char *name)
{
    char normal[64];
    size_t n = strlen(name);
    if (n >= sizeof normal)
        return NULL;
    for (size_t i = 0; i <= n; i++)
        normal[i] = name[i] == '_' ? '-' : name[i];
    for (size_t i = 0; i < NOPTIONS; i++)
        if (strcmp(options[i].name, normal) == 0)
            return &options[i];
    return NULL;
}

/* The option getopt returned `val` for, or NULL. */
static const option_spec_t *option_by_value(int val)
{
    if (val >= LONG_ONLY_BASE && (size_t)(val - LONG_ONLY_BASE) < NOPTIONS)
        return &options[val - LONG_ONLY_BASE];
    for (size_t i = 0; i < NOPTIONS; i++)
        if (options[i].short_name && options[i].short_name == val)
            return &options[i];
    return NULL;
}

static int bad_value(const option_spec_t *o, const char *arg, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: invalid value '%s'", long_name(o), arg ? arg : "");
    return -EINVAL;
}

/* --- values -------------------------------------------------------------- */

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -EINVAL;
    *out = v;
    return 0;
}

/* A size with an optional K, M or G suffix (powers of 1024); a bare number
 * is in units of 2^default_shift bytes (20: megabytes). */
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

static int apply_int(const option_spec_t *o, const char *arg, int *field, char *err,
                     size_t errlen)
{
    long v;
    if (parse_long(arg, (long)o->lo, (long)o->hi, &v) == 0) {
        *field = (int)v;
        return 0;
    }
    if (!o->what)
        return bad_value(o, arg, err, errlen);
    snprintf(err, errlen, "%s: '%s' is not %s (%ld-%ld)", long_name(o), arg, o->what, (long)o->lo,
             (long)o->hi);
    return -EINVAL;
}

static int apply_seconds(const option_spec_t *o, const char *arg, double *field, char *err,
                         size_t errlen)
{
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    if (errno || end == arg || *end || !isfinite(v) || v < o->lo || v > o->hi ||
        (o->positive && v <= 0))
        return bad_value(o, arg, err, errlen);
    *field = v;
    return 0;
}

static int apply_list(const option_spec_t *o, const char *arg, ctl_config_t *cfg, char *err,
                      size_t errlen)
{
    const char **items = (const char **)((char *)cfg + o->field);
    int *count = (int *)((char *)cfg + o->count_field);
    if (*count >= (int)o->hi) {
        snprintf(err, errlen, "%s: at most %d entries", long_name(o), (int)o->hi);
        return -EINVAL;
    }
    items[(*count)++] = arg;
    return 0;
}

/* Applies option o with arg (NULL for a flag). Returns 0, 1 for "exit 0",
 * or -EINVAL with err. */
static int apply_option(const option_spec_t *o, const char *arg, ctl_config_t *cfg, char *err,
                        size_t errlen)
{
    void *field = (char *)cfg + o->field;
    switch (o->kind) {
    case KIND_FLAG:
        *(bool *)field = true;
        return 0;
    case KIND_INT:
        return apply_int(o, arg, field, err, errlen);
    case KIND_SECONDS:
        return apply_seconds(o, arg, field, err, errlen);
    case KIND_SIZE:
        return parse_size(arg, (int)o->lo, field) < 0 ? bad_value(o, arg, err, errlen) : 0;
    case KIND_STRING:
        if (o->nonempty && !*arg)
            return bad_value(o, arg, err, errlen);
        *(const char **)field = arg;
        return 0;
    case KIND_LIST:
        return apply_list(o, arg, cfg, err, errlen);
    case KIND_SPECIAL:
        return o->apply(o, arg, cfg, err, errlen);
    }
    return bad_value(o, arg, err, errlen);
}

/* --- the options that need more than their row ---------------------------- */

static int apply_reload(const option_spec_t *o, const char *arg, ctl_config_t *cfg, char *err,
                        size_t errlen)
{
    if (strcmp(arg, "dev") != 0 && strcmp(arg, "off") != 0)
        return bad_value(o, arg, err, errlen);
    cfg->reload_dev = strcmp(arg, "dev") == 0;
    return 0;
}

static int apply_no_keepalive(const option_spec_t *o, const char *arg, ctl_config_t *cfg,
                              char *err, size_t errlen)
{
    cfg->keepalive = 0;
    return 0;
}

static int apply_access_log_format(const option_spec_t *o, const char *arg, ctl_config_t *cfg,
                                   char *err, size_t errlen)
{
    cmn_accessfmt_t fmt; /* compiled here only to reject a bad one at start */
    char why[160];
    if (cmn_accessfmt_compile(arg, &fmt, why, sizeof why) < 0) {
        snprintf(err, errlen, "%s: %s", long_name(o), why);
        return -EINVAL;
    }
    cmn_accessfmt_free(&fmt);
    cfg->access_log_format = arg;
    return 0;
}

static int apply_forwarded(const option_spec_t *o, const char *arg, ctl_config_t *cfg, char *err,
                           size_t errlen)
{
    cmn_iplist_t list;
    char why[128];
    if (cmn_iplist_parse(arg, &list, why, sizeof why) < 0) {
        snprintf(err, errlen, "%s: %s", long_name(o), why);
        return -EINVAL;
    }
    cfg->forwarded_allow_ips = arg;
    return 0;
}

static int apply_log_level(const option_spec_t *o, const char *arg, ctl_config_t *cfg, char *err,
                           size_t errlen)
{
    cmn_log_level_t level;
    if (cmn_log_parse_level(arg, &level) < 0)
        return bad_value(o, arg, err, errlen);
    cfg->log_level = arg;
    return 0;
}

static int apply_bind(const option_spec_t *o, const char *arg, ctl_config_t *cfg, char *err,
                      size_t errlen)
{
    ctl_bind_t parsed;
    char why[300];
    if (ctl_bind_parse(arg, &parsed, why, sizeof why) < 0) {
        snprintf(err, errlen, "%s: %s", long_name(o), why);
        return -EINVAL;
    }
    return apply_list(o, arg, cfg, err, errlen);
}

static int apply_socket_mode(const option_spec_t *o, const char *arg, ctl_config_t *cfg,
                             char *err, size_t errlen)
{
    char *end;
    errno = 0;
    long mode = strtol(arg, &end, 8);
    if (errno || end == arg || *end || mode < 0 || mode > 0777)
        return bad_value(o, arg, err, errlen);
    cfg->unix_socket_mode = (int)mode;
    return 0;
}

static int apply_config(const option_spec_t *o, const char *arg, ctl_config_t *cfg, char *err,
                        size_t errlen)
{
    /* The file was read before the command line (ctl_options_parse);
     * getopt also accepts abbreviations, which that first look missed. */
    if (!cfg->config_file || strcmp(cfg->config_file, arg) != 0) {
        snprintf(err, errlen, "--config: give it once, spelt out, as --config FILE");
        return -EINVAL;
    }
    return 0;
}

static int apply_help(const option_spec_t *o, const char *arg, ctl_config_t *cfg, char *err,
                      size_t errlen)
{
    print_help();
    return 1;
}

static int apply_version(const option_spec_t *o, const char *arg, ctl_config_t *cfg, char *err,
                         size_t errlen)
{
    printf("spawning %s\n", SPAWNING_VERSION);
    return 1;
}

/* --- sources: the command line, the config file, defaults from elsewhere -- */

/* Where a setting comes from; each one outranks the one before it. */
typedef enum { FROM_DEFAULT, FROM_FILE, FROM_COMMAND_LINE } setting_source_t;

static int parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0 || strcasecmp(s, no[i]) == 0) {
            *out = strcasecmp(s, yes[i]) == 0;
            return 0;
        }
    }
    return -EINVAL;
}

/* A flag's value from a config file or a default: true applies it, false
 * clears a flag's bool (and is a no-op for --no-keepalive). */
static int apply_flag_value(const option_spec_t *o, const char *value, ctl_config_t *cfg,
                            char *err, size_t errlen)
{
    bool on = true;
    if (value && *value && parse_bool(value, &on) < 0) {
        snprintf(err, errlen, "%s: '%s' is not true or false", long_name(o), value);
        return -EINVAL;
    }
    if (on)
        return apply_option(o, NULL, cfg, err, errlen);
    if (o->kind == KIND_FLAG)
        *(bool *)((char *)cfg + o->field) = false;
    return 0;
}

/* Applies o from `source`. Returns 0, 1 when skipped (a default for an
 * option set explicitly) or when --help/--version printed, or -EINVAL. */
static int apply_from(const option_spec_t *o, const char *value, setting_source_t source,
                      ctl_config_t *cfg, char *err, size_t errlen)
{
    size_t idx = (size_t)(o - options);
    if (source == FROM_DEFAULT && cfg->set_explicitly[idx])
        return 1;
    if (source == FROM_COMMAND_LINE && cfg->list_from_file[idx] && o->count_field) {
        *(int *)((char *)cfg + o->count_field) = 0; /* the command line's list replaces the file's */
        cfg->list_from_file[idx] = false;
    }
    int rc = source != FROM_COMMAND_LINE && !o->metavar
                 ? apply_flag_value(o, value, cfg, err, errlen)
                 : apply_option(o, value, cfg, err, errlen);
    if (rc == 0 && source != FROM_DEFAULT)
        cfg->set_explicitly[idx] = true;
    if (rc == 0 && source == FROM_FILE)
        cfg->list_from_file[idx] = true;
    return rc;
}

bool ctl_options_was_set(const ctl_config_t *cfg, const char *name)
{
    const option_spec_t *o = option_by_name(name);
    return o && cfg->set_explicitly[o - options];
}

int ctl_options_apply_default(ctl_config_t *cfg, const char *name, const char *value, char *err,
                              size_t errlen)
{
    const option_spec_t *o = option_by_name(name);
    if (!o || is_command(o)) {
        snprintf(err, errlen, "unknown option '%s'", name);
        return -EINVAL;
    }
    return apply_from(o, value, FROM_DEFAULT, cfg, err, errlen);
}

/* "app = APP [MIDDLEWARE ...]" in the config file: the positional arguments. */
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

/* ctl_configfile_setting_fn: one "name = value" of the config file. */
static int apply_file_setting(void *ctx, const char *name, char *value, char *err, size_t errlen)
{
    ctl_config_t *cfg = ctx;
    if (strcmp(name, "app") == 0)
        return apply_file_app(value, cfg, err, errlen);
    const option_spec_t *o = option_by_name(name);
    if (!o || is_command(o)) {
        snprintf(err, errlen, "unknown option '%s'", name);
        return -EINVAL;
    }
    if (o->metavar && !*value) {
        snprintf(err, errlen, "%s: needs a value", long_name(o));
        return -EINVAL;
    }
    return apply_from(o, value, FROM_FILE, cfg, err, errlen);
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

/* getopt's tables, built from the option table: the long options, and
 * the short ones ("i:p:d..."). */
static void getopt_tables(struct option *longopts, char *shortopts, size_t len)
{
    size_t used = 0;
    shortopts[used++] = ':'; /* report a missing value as ':' */
    for (size_t i = 0; i < NOPTIONS; i++) {
        const option_spec_t *o = &options[i];
        int val = o->short_name ? o->short_name : LONG_ONLY_BASE + (int)i;
        longopts[i] = (struct option){o->name, o->metavar ? required_argument : no_argument,
                                      NULL, val};
        if (o->short_name && used + 3 < len) {
            shortopts[used++] = o->short_name;
            if (o->metavar)
                shortopts[used++] = ':';
        }
    }
    memset(&longopts[NOPTIONS], 0, sizeof longopts[NOPTIONS]);
    shortopts[used] = '\0';
}

/* Describes the option getopt just rejected, for the one-line error. */
static void describe_bad_option(int c, int argc, char **argv, char *err, size_t errlen)
{
    const char *word = optind - 1 < argc ? argv[optind - 1] : "?";
    const option_spec_t *o = optopt ? option_by_value(optopt) : NULL;
    if (c == ':')
        snprintf(err, errlen, "%s: needs a value", o ? long_name(o) : word);
    else if (optopt && optopt < LONG_ONLY_BASE && !o)
        snprintf(err, errlen, "-%c: unknown option", optopt);
    else
        snprintf(err, errlen, "%s: unknown option", word);
}

/* The positional arguments after the options: APP and MIDDLEWARE (or a
 * factory's ARGS), replacing the config file's "app". */
static ctl_options_result_t take_positional(int argc, char **argv, ctl_config_t *cfg, char *err,
                                            size_t errlen)
{
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

static ctl_options_result_t parse_command_line(int argc, char **argv, ctl_config_t *cfg,
                                               char *err, size_t errlen)
{
    struct option longopts[NOPTIONS + 1];
    char shortopts[2 * NOPTIONS + 2];
    getopt_tables(longopts, shortopts, sizeof shortopts);
    opterr = 0;
    optind = 0; /* 0, not 1: also resets glibc's scan of grouped short options */
    int c;
    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        const option_spec_t *o = c == '?' || c == ':' ? NULL : option_by_value(c);
        if (!o) {
            describe_bad_option(c, argc, argv, err, errlen);
            return CTL_OPTIONS_USAGE;
        }
        int rc = apply_from(o, optarg, FROM_COMMAND_LINE, cfg, err, errlen);
        if (rc == 1)
            return CTL_OPTIONS_EXIT_OK;
        if (rc < 0)
            return CTL_OPTIONS_USAGE;
    }
    return take_positional(argc, argv, cfg, err, errlen);
}

/* Every TLS file must be readable now: a typo is a usage error at start,
 * not a child failing later. */
static int check_tls_files(const ctl_config_t *cfg, char *err, size_t errlen)
{
    const char *files[2 * CTL_MAX_CERTS + 1];
    const char *names[2 * CTL_MAX_CERTS + 1];
    int n = 0;
    for (int i = 0; i < cfg->ncertfile; i++, n++) {
        files[n] = cfg->certfile[i];
        names[n] = "--certfile";
    }
    for (int i = 0; i < cfg->nkeyfile; i++, n++) {
        files[n] = cfg->keyfile[i];
        names[n] = "--keyfile";
    }
    if (cfg->ca_certs) {
        files[n] = cfg->ca_certs;
        names[n++] = "--ca-certs";
    }
    for (int i = 0; i < n; i++) {
        if (access(files[i], R_OK) < 0) {
            snprintf(err, errlen, "%s: %s: %s", names[i], files[i], strerror(errno));
            return -EINVAL;
        }
    }
    return 0;
}

/* True when some -b address says https://. */
static bool any_https_bind(const ctl_config_t *cfg)
{
    for (int i = 0; i < cfg->nbind; i++)
        if (strncmp(cfg->bind[i], "https://", 8) == 0)
            return true;
    return false;
}

static int check_tls(const ctl_config_t *cfg, char *err, size_t errlen)
{
    if (any_https_bind(cfg) && cfg->ncertfile == 0)
        snprintf(err, errlen, "--certfile: required by the https:// addresses");
    else if (cfg->nkeyfile && cfg->nkeyfile != cfg->ncertfile)
        snprintf(err, errlen, "--keyfile: give one per --certfile (%d), or none when the keys are "
                              "inside the certificate files", cfg->ncertfile);
    else if (cfg->ca_certs && cfg->ncertfile == 0)
        snprintf(err, errlen, "--ca-certs: client certificates need TLS (--certfile)");
    else if (cfg->verify_client && !cfg->ca_certs)
        snprintf(err, errlen, "--verify-client: needs --ca-certs to check the certificates with");
    else if (cfg->ciphers && cfg->ncertfile == 0)
        snprintf(err, errlen, "--ciphers: needs TLS (--certfile)");
    else
        return check_tls_files(cfg, err, errlen);
    return -EINVAL;
}

/* Checks across options, once every source has been applied. */
static ctl_options_result_t check_config(const ctl_config_t *cfg, char *err, size_t errlen)
{
    if (!cfg->app && !cfg->factory) {
        snprintf(err, errlen, "APP: missing; usage: spawning [OPTIONS] APP [MIDDLEWARE ...]");
        return CTL_OPTIONS_USAGE;
    }
    if (check_tls(cfg, err, errlen) < 0)
        return CTL_OPTIONS_USAGE;
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
    if (config_path) {
        cfg->config_file = config_path;
        if (ctl_configfile_read(config_path, &cfg->config_text, apply_file_setting, cfg, err,
                                errlen) < 0)
            return CTL_OPTIONS_USAGE;
    }
    ctl_options_result_t rc = parse_command_line(argc, argv, cfg, err, errlen);
    return rc == CTL_OPTIONS_RUN ? check_config(cfg, err, errlen) : rc;
}

void ctl_options_free(ctl_config_t *cfg)
{
    free(cfg->config_text);
    cfg->config_text = NULL;
}
