/* spawning_child: one serving process, started by the controller.
 *
 * Reads its configuration (and the listening sockets) from the control
 * channel, starts Python, imports the app, says "ready", and serves until
 * drained, in threaded mode (libev I/O thread + worker pool) or green mode
 * (gevent, --threads 0). If the app cannot be imported it says "fatal" with
 * the traceback and exits with code 3. In probe mode (--factory; see
 * chd_factory.h) it only runs the config factory, answers, and exits. */
#include "chd_accesslog.h"
#include "chd_config.h"
#include "chd_debug.h"
#include "chd_factory.h"
#include "chd_green.h"
#include "chd_python.h"
#include "chd_server.h"
#include "chd_watchdog.h"
#include "chd_wsgi.h"
#include "cmn_ctlmsg.h"
#include "cmn_log.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXIT_APP_FAILED 3
#define EXIT_USAGE 2

static void send_fatal(int control_fd, const char *text)
{
    json_t *msg = json_pack("{s:s, s:s}", "type", CMN_MSG_FATAL, "error", text);
    if (msg && cmn_ctlmsg_send(control_fd, msg, NULL, 0) == -EMSGSIZE) {
        /* Keep the end of a long traceback: that is where the error is. */
        size_t len = strlen(text), keep = CMN_CTLMSG_MAX / 2;
        json_object_set_new(msg, "error", json_string(text + (len > keep ? len - keep : 0)));
        cmn_ctlmsg_send(control_fd, msg, NULL, 0);
    }
    json_decref(msg);
}

static void send_ready(int control_fd)
{
    json_t *ready = json_pack("{s:s, s:i}", "type", CMN_MSG_READY, "pid", (int)getpid());
    cmn_ctlmsg_send(control_fd, ready, NULL, 0);
    json_decref(ready);
}

/* Receives the config message and the listening sockets riding with it
 * (none in probe mode). Returns 0, or -1 after reporting why. */
static int receive_config(int control_fd, chd_config_t *cfg, chd_listeners_t *listeners)
{
    int err = 0;
    *listeners = (chd_listeners_t){0}; /* no TLS context on any listener until start_tls */
    json_t *msg = cmn_ctlmsg_recv(control_fd, listeners->fds, &listeners->n, &err);
    char why[256] = "";
    int rc = -1;
    bool probe = json_is_true(json_object_get(msg, "probe"));
    if (!msg || strcmp(cmn_ctlmsg_type(msg), CMN_MSG_CONFIG) != 0 || (listeners->n < 1 && !probe))
        snprintf(why, sizeof why, "no configuration from the controller (%s)",
                 err ? strerror(-err) : "unexpected message");
    else if (chd_config_from_json(msg, cfg, why, sizeof why) == 0)
        rc = 0;
    json_decref(msg);
    if (rc < 0) {
        chd_listeners_close(listeners);
        cmn_error("%s", why);
        send_fatal(control_fd, why);
    } else {
        chd_listeners_find_ports(listeners);
    }
    return rc;
}

/* TLS: one context for the listeners the controller marked, its ticket keys
 * from the config. Before the app is loaded, so a broken certificate fails
 * the start (and a reload keeps the old generation) the way a broken app
 * does. Returns 0, or -1 after reporting why. */
static int start_tls(const chd_config_t *cfg, chd_listeners_t *ls, int control_fd)
{
    if (!cfg->tls.enabled)
        return 0;
    char why[512];
    chd_tls_settings_t settings = chd_config_tls_settings(cfg);
    ls->tls_ctx = chd_tls_ctx_new(&settings, why, sizeof why);
    if (!ls->tls_ctx) {
        char msg[600];
        snprintf(msg, sizeof msg, "TLS: %s", why);
        send_fatal(control_fd, msg);
        return -1;
    }
    uint8_t keys[CHD_TLS_MAX_TICKET_KEYS * CHD_TLS_TICKET_KEY_BYTES];
    int n = chd_tls_parse_ticket_keys(cfg->tls.ticket_keys, keys);
    if (n < 0 || chd_tls_ctx_set_ticket_keys(ls->tls_ctx, keys, n) < 0)
        cmn_warning("TLS: the controller's ticket keys are unusable; no session tickets");
    explicit_bzero(keys, sizeof keys);
    for (int i = 0; i < ls->n; i++)
        ls->each[i].tls = cfg->tls.on_listener[i] ? ls->tls_ctx : NULL;
    return 0;
}

/* Changes directory and starts the interpreter. Returns 0, or -1 after
 * reporting the failure to the controller. Holds the GIL on success. */
static int start_interpreter(const chd_config_t *cfg, int control_fd)
{
    char err[1024];
    if (cfg->chdir && chdir(cfg->chdir) < 0) {
        snprintf(err, sizeof err, "--chdir %s: %s", cfg->chdir, strerror(errno));
        send_fatal(control_fd, err);
        return -1;
    }
    if (chd_python_init(cfg, err, sizeof err) < 0) {
        send_fatal(control_fd, err);
        return -1;
    }
    return 0;
}

/* The app: through the factory, or APP + MIDDLEWARE (the fast path); then
 * the debugging aids. NULL with *text set on failure. */
static PyObject *load_app(const chd_config_t *cfg, PyObject **watch, char **text)
{
    if (chd_debug_start(cfg, text) < 0)
        return NULL;
    PyObject *app = cfg->factory ? chd_factory_load_app(cfg, watch, text)
                                 : chd_python_load_app(cfg, text);
    return app ? chd_debug_wrap(app, cfg, text) : NULL;
}

/* Starts Python and loads the app. Returns the app (new ref) or NULL after
 * reporting the failure to the controller. Holds the GIL on return. The
 * factory's watch list, if any, goes to *watch (new ref). */
static PyObject *start_python(const chd_config_t *cfg, int control_fd, PyObject **watch)
{
    if (start_interpreter(cfg, control_fd) < 0)
        return NULL;
    char *text = NULL;
    if (cfg->threads == 0 && chd_green_prepare(&text) < 0) {
        send_fatal(control_fd, text);
        free(text);
        return NULL;
    }
    PyObject *app = load_app(cfg, watch, &text);
    if (app && chd_wsgi_init(app, cfg) < 0) {
        Py_CLEAR(app);
        text = chd_python_format_exception();
    }
    if (!app) {
        send_fatal(control_fd, text);
        free(text);
    }
    return app;
}

/* --reload=dev: tell the controller which source files to watch (those
 * imported, plus the factory's watch list), in messages of at most
 * FILES_PER_MESSAGE paths. GIL held. */
#define FILES_PER_MESSAGE 200
static void report_files(int control_fd, PyObject *watch)
{
    PyObject *files = chd_python_module_files();
    Py_ssize_t end = files ? PyList_GET_SIZE(files) : 0;
    if (files && watch && PyList_SetSlice(files, end, end, watch) < 0)
        Py_CLEAR(files);
    if (!files) {
        chd_python_log_exception("cannot list the imported modules for --reload=dev");
        return;
    }
    json_t *batch = json_array();
    Py_ssize_t n = PyList_GET_SIZE(files);
    for (Py_ssize_t i = 0; i < n; i++) {
        const char *path = PyUnicode_AsUTF8(PyList_GET_ITEM(files, i));
        if (path)
            json_array_append_new(batch, json_string(path));
        PyErr_Clear();
        if (json_array_size(batch) == FILES_PER_MESSAGE || i == n - 1) {
            json_t *msg = json_pack("{s:s, s:O}", "type", CMN_MSG_FILES, "files", batch);
            cmn_ctlmsg_send(control_fd, msg, NULL, 0);
            json_decref(msg);
            json_array_clear(batch);
        }
    }
    json_decref(batch);
    Py_DECREF(files);
}

/* Green mode: say ready, then serve on the gevent hub with the GIL held. */
static int run_green(const chd_config_t *cfg, const chd_listeners_t *listeners, int control_fd)
{
    send_ready(control_fd);
    return chd_green_run(cfg, listeners, control_fd) == 0 ? 0 : 1;
}

/* Threaded mode: this thread runs the event loop without the GIL and takes
 * it (with its own thread state) for the requests it runs itself; the
 * worker pool takes it per request (chd_conn_loop.h). */
static int run_threaded(chd_config_t *cfg, const chd_listeners_t *listeners, int control_fd)
{
    PyThreadState *main_tstate = PyEval_SaveThread();
    chd_server_t server;
    chd_handler_t handler = {.handle = chd_wsgi_handle,
                             .handle_inline = chd_wsgi_handle_inline,
                             .thread_start = chd_wsgi_thread_start,
                             .thread_stop = chd_wsgi_thread_stop};
    int rc = chd_server_init(&server, cfg, listeners, control_fd, &handler);
    server.requests.inline_tstate = main_tstate;
    if (rc == 0) {
        send_ready(control_fd);
        chd_server_run(&server);
    } else {
        send_fatal(control_fd, "cannot start the worker threads");
    }
    PyEval_RestoreThread(main_tstate);
    return rc == 0 ? 0 : EXIT_APP_FAILED;
}

/* Probe mode: run the config factory, answer the controller, exit. */
static int run_probe(const chd_config_t *cfg, int control_fd)
{
    if (start_interpreter(cfg, control_fd) < 0)
        return EXIT_APP_FAILED;
    json_t *reply = chd_factory_probe(cfg);
    bool ok = reply && strcmp(cmn_ctlmsg_type(reply), CMN_MSG_OPTIONS) == 0;
    if (reply && cmn_ctlmsg_send(control_fd, reply, NULL, 0) == -EMSGSIZE)
        send_fatal(control_fd, "the factory's answer is too long (its watch list?)");
    json_decref(reply);
    chd_python_finalize();
    return ok ? 0 : EXIT_APP_FAILED;
}

static int parse_args(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--control-fd") == 0)
        return atoi(argv[2]);
    fprintf(stderr, "spawning_child is started by spawning (the controller), not by hand\n");
    return -1;
}

int main(int argc, char **argv)
{
    int control_fd = parse_args(argc, argv);
    if (control_fd < 0)
        return EXIT_USAGE;
    signal(SIGPIPE, SIG_IGN);
    chd_config_t cfg;
    chd_listeners_t listeners;
    if (receive_config(control_fd, &cfg, &listeners) < 0)
        return EXIT_USAGE;
    cmn_log_level_t level;
    if (cmn_log_parse_level(cfg.log_level, &level) == 0)
        cmn_log_set_level(level);
    if (cfg.probe) {
        int rc = run_probe(&cfg, control_fd);
        chd_config_free(&cfg);
        return rc;
    }
    /* Before start_python: a relative -l is relative to where we started,
     * not to --chdir. */
    char why[512];
    if (chd_accesslog_start(cfg.access_log, cfg.access_log_format, why, sizeof why) < 0) {
        send_fatal(control_fd, why);
        chd_config_free(&cfg);
        return EXIT_APP_FAILED;
    }
    if (start_tls(&cfg, &listeners, control_fd) < 0) {
        chd_accesslog_stop();
        chd_config_free(&cfg);
        return EXIT_APP_FAILED;
    }
    PyObject *watch = NULL;
    PyObject *app = start_python(&cfg, control_fd, &watch);
    if (!app) {
        chd_accesslog_stop();
        chd_config_free(&cfg);
        return EXIT_APP_FAILED;
    }
    if (cfg.report_files)
        report_files(control_fd, watch);
    Py_XDECREF(watch);
    fcntl(control_fd, F_SETFL, fcntl(control_fd, F_GETFL) | O_NONBLOCK);
    chd_watchdog_start(&cfg, control_fd); /* --timeout; without it the controller's check stays */
    int rc = cfg.threads == 0 ? run_green(&cfg, &listeners, control_fd)
                              : run_threaded(&cfg, &listeners, control_fd);
    chd_watchdog_stop();
    chd_accesslog_stop();
    Py_DECREF(app);
    chd_python_finalize();
    chd_tls_ctx_free(listeners.tls_ctx);
    chd_config_free(&cfg);
    return rc;
}
