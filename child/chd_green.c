/* chd_green: see chd_green.h. */
#include "chd_green.h"

#include "chd_accesslog.h"
#include "chd_conn.h"
#include "chd_orphan.h"
#include "chd_control.h"
#include "chd_python.h"
#include "chd_watchdog.h"
#include "chd_wsgi.h"
#include "cmn_ctlmsg.h"
#include "cmn_log.h"
#include "green_py.h" /* generated: the text of python/spawning/green.py */

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

/* Green mode's own context: what its connections see, the counters, the
 * control channel and the listening sockets. One per process (the gevent
 * hub runs in the main thread). */
static struct {
    chd_stats_t stats;
    chd_conn_env_t env;
    chd_control_t control;
    chd_listeners_t listeners;
} green;
static PyObject *wait_read_fn, *wait_write_fn;

/* The server's wait function in green mode: yield to the hub until the
 * socket is ready. GIL held. */
static int green_wait(chd_conn_t *conn, short events, int timeout_ms)
{
    PyObject *fn = (events & POLLOUT) ? wait_write_fn : wait_read_fn;
    PyObject *rv = PyObject_CallFunction(fn, "id", conn->fd, timeout_ms / 1000.0);
    if (rv) {
        Py_DECREF(rv);
        return 0;
    }
    int rc = PyErr_ExceptionMatches(PyExc_TimeoutError) ? -ETIMEDOUT : -ECONNABORTED;
    PyErr_Clear(); /* a kill (GreenletExit) while waiting ends this request too */
    return rc;
}

typedef struct {
    PyObject_HEAD
    chd_conn_t *conn; /* NULL once closed */
} green_conn_t;

static PyObject *closed_error(void)
{
    PyErr_SetString(PyExc_ValueError, "connection is closed");
    return NULL;
}

static PyObject *gc_fileno(green_conn_t *self, PyObject *unused)
{
    (void)unused;
    return self->conn ? PyLong_FromLong(self->conn->fd) : closed_error();
}

/* feed() -> 1 a request is ready, 0 need more bytes, -1 close (a malformed
 * request has been answered, a PROXY header refused, or the client went
 * away). */
static PyObject *gc_feed(green_conn_t *self, PyObject *unused)
{
    (void)unused;
    chd_conn_t *conn = self->conn;
    if (!conn)
        return closed_error();
    chd_parse_result_t rc = chd_conn_parse(conn);
    if (rc == CHD_PARSE_MORE) {
        int n = chd_conn_read_some(conn);
        if (n == -EAGAIN)
            return PyLong_FromLong(0);
        if (n <= 0)
            return PyLong_FromLong(-1);
        rc = chd_conn_parse(conn);
    }
    if (rc == CHD_PARSE_BAD || rc == CHD_PARSE_DROP) {
        if (rc == CHD_PARSE_BAD)
            chd_conn_reject(conn);
        return PyLong_FromLong(-1);
    }
    return PyLong_FromLong(rc == CHD_PARSE_READY ? 1 : 0);
}

/* serve() -> True when the connection stays open for another request. */
static PyObject *gc_serve(green_conn_t *self, PyObject *unused)
{
    (void)unused;
    if (!self->conn)
        return closed_error();
    chd_conn_begin_request(self->conn);
    chd_wsgi_serve(self->conn);
    chd_control_request_done(&green.control);
    return PyBool_FromLong(chd_conn_end_request(self->conn));
}

/* timeout(): the wait for a request ran out; 408 when a head had begun. */
static PyObject *gc_timeout(green_conn_t *self, PyObject *unused)
{
    (void)unused;
    if (self->conn)
        chd_conn_timed_out(self->conn);
    Py_RETURN_NONE;
}

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
/* greenlet copies stacks in and out without telling AddressSanitizer, so
 * the free stack below a switched-in greenlet may carry another one's
 * stale poison, which checked C code (or libc's interceptors) running
 * there would report. Clears it; only in the sanitizer build. */
static void clear_stale_stack_poison(void)
{
    char *below = (char *)__builtin_frame_address(0) - 65536;
    __asan_unpoison_memory_region(below, 65536);
}
#else
static inline void clear_stale_stack_poison(void) {}
#endif

/* overdue() -> True when the running request is past --timeout and not
 * handled yet. */
static PyObject *gc_overdue(green_conn_t *self, PyObject *unused)
{
    (void)unused;
    clear_stale_stack_poison();
    return PyBool_FromLong(self->conn && chd_watchdog_is_overdue(self->conn, chd_monotonic()));
}

/* time_out(stack): --timeout for a request whose greenlet waits on the hub
 * (chd_watchdog_overran); stack: its traceback lines. */
static PyObject *gc_time_out(green_conn_t *self, PyObject *stack)
{
    clear_stale_stack_poison();
    const char *text = PyUnicode_AsUTF8(stack);
    if (!text)
        return NULL;
    if (self->conn)
        chd_watchdog_overran(self->conn, "in its greenlet (waiting on the hub)", text);
    Py_RETURN_NONE;
}

static PyObject *gc_close(green_conn_t *self, PyObject *unused)
{
    (void)unused;
    if (self->conn) {
        chd_conn_destroy(self->conn);
        self->conn = NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *gc_idle(green_conn_t *self, void *closure)
{
    (void)closure;
    return PyBool_FromLong(self->conn && chd_conn_is_idle(self->conn));
}

static void gc_dealloc(green_conn_t *self)
{
    if (self->conn)
        chd_conn_destroy(self->conn);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef gc_methods[] = {
    {"fileno", (PyCFunction)gc_fileno, METH_NOARGS, NULL},
    {"feed", (PyCFunction)gc_feed, METH_NOARGS, NULL},
    {"serve", (PyCFunction)gc_serve, METH_NOARGS, NULL},
    {"timeout", (PyCFunction)gc_timeout, METH_NOARGS, NULL},
    {"overdue", (PyCFunction)gc_overdue, METH_NOARGS, NULL},
    {"time_out", (PyCFunction)gc_time_out, METH_O, NULL},
    {"close", (PyCFunction)gc_close, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef gc_getset[] = {
    {"idle", (getter)gc_idle, NULL, "between requests, nothing of the next received", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject green_conn_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "_spawning_green.Connection",
    .tp_basicsize = sizeof(green_conn_t),
    .tp_dealloc = (destructor)gc_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_methods = gc_methods,
    .tp_getset = gc_getset,
};

/* accept(listen_fd) -> Connection, or None when no client is waiting.
 * Raises OSError when out of descriptors. */
static PyObject *mod_accept(PyObject *mod, PyObject *arg)
{
    (void)mod;
    int listen_fd = PyLong_AsLong(arg);
    if (listen_fd < 0 && PyErr_Occurred())
        return NULL;
    struct sockaddr_storage peer;
    socklen_t len = sizeof peer;
    int fd = accept4(listen_fd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
            return PyErr_SetFromErrno(PyExc_OSError);
        Py_RETURN_NONE; /* EAGAIN, or a client that already left */
    }
    green_conn_t *self = PyObject_New(green_conn_t, &green_conn_type);
    if (!self) {
        close(fd);
        return NULL;
    }
    self->conn = chd_conn_new(&green.env, fd, (struct sockaddr *)&peer);
    if (!self->conn) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    return (PyObject *)self;
}

/* control_message() -> "stop", "eof", or None; heartbeats and log
 * reopening are handled on the way (chd_control.c). */
static PyObject *mod_control_message(PyObject *mod, PyObject *unused)
{
    (void)mod;
    (void)unused;
    switch (chd_control_read(&green.control)) {
    case CHD_CONTROL_STOP:
        return PyUnicode_FromString("stop");
    case CHD_CONTROL_GONE:
        chd_orphan_begin(green.env.cfg); /* a watchdog bounds what still runs */
        return PyUnicode_FromString("eof");
    default:
        Py_RETURN_NONE;
    }
}

static PyObject *mod_set_draining(PyObject *mod, PyObject *unused)
{
    (void)mod;
    (void)unused;
    if (!atomic_exchange(&green.env.draining, true))
        cmn_info("draining: %d connection(s) open", atomic_load(&green.stats.connections));
    Py_RETURN_NONE;
}

static PyObject *mod_close_listener(PyObject *mod, PyObject *unused)
{
    (void)mod;
    (void)unused;
    chd_listeners_close(&green.listeners);
    Py_RETURN_NONE;
}

/* --timeout: the requests running now, {greenlet: Connection} (green.py's);
 * switch_trace keeps the hub thread's watchdog slot on the greenlet that
 * runs, so a greenlet that blocks the hub is named (chd_watchdog.h). */
static PyObject *running_requests;

static PyObject *mod_watch(PyObject *mod, PyObject *running)
{
    (void)mod;
    Py_XSETREF(running_requests, running == Py_None ? NULL : Py_NewRef(running));
    Py_RETURN_NONE;
}

/* switch_trace(event, (origin, target)): greenlet.settrace's callback, at
 * every switch. */
static PyObject *mod_switch_trace(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    (void)mod;
    clear_stale_stack_poison();
    PyObject *target = nargs == 2 && PyTuple_Check(args[1]) && PyTuple_GET_SIZE(args[1]) == 2
                           ? PyTuple_GET_ITEM(args[1], 1)
                           : NULL;
    PyObject *conn = target && running_requests
                         ? PyDict_GetItemWithError(running_requests, target) /* borrowed */
                         : NULL;
    if (conn && Py_IS_TYPE(conn, &green_conn_type) && ((green_conn_t *)conn)->conn)
        chd_watchdog_begin(((green_conn_t *)conn)->conn);
    else
        chd_watchdog_end();
    if (PyErr_Occurred())
        return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef mod_methods[] = {
    {"watch", mod_watch, METH_O, NULL},
    {"switch_trace", (PyCFunction)(void (*)(void))mod_switch_trace, METH_FASTCALL, NULL},
    {"accept", mod_accept, METH_O, NULL},
    {"control_message", mod_control_message, METH_NOARGS, NULL},
    {"set_draining", mod_set_draining, METH_NOARGS, NULL},
    {"close_listener", mod_close_listener, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef mod_def = {
    PyModuleDef_HEAD_INIT, "_spawning_green", "C side of Spawning's green mode", -1, mod_methods,
    NULL, NULL, NULL, NULL,
};

int chd_green_prepare(char **error_text)
{
    PyObject *monkey = PyImport_ImportModule("gevent.monkey");
    PyObject *rv = monkey ? PyObject_CallMethod(monkey, "patch_all", NULL) : NULL;
    Py_XDECREF(rv);
    Py_XDECREF(monkey);
    if (rv)
        return 0;
    char *why = chd_python_format_exception();
    size_t len = strlen(why) + 128;
    *error_text = malloc(len);
    if (*error_text)
        snprintf(*error_text, len,
                 "green mode (--threads 0) needs gevent (Debian: python3-gevent):\n%s", why);
    free(why);
    return -1;
}

/* Registers _spawning_green and imports gevent's waiters. */
static int setup_native(void)
{
    if (PyType_Ready(&green_conn_type) < 0)
        return -1;
    PyObject *mod = PyModule_Create(&mod_def);
    PyObject *modules = PySys_GetObject("modules"); /* borrowed */
    int rc = mod && modules ? PyDict_SetItemString(modules, "_spawning_green", mod) : -1;
    Py_XDECREF(mod);
    PyObject *gsock = rc == 0 ? PyImport_ImportModule("gevent.socket") : NULL;
    wait_read_fn = gsock ? PyObject_GetAttrString(gsock, "wait_read") : NULL;
    wait_write_fn = gsock ? PyObject_GetAttrString(gsock, "wait_write") : NULL;
    Py_XDECREF(gsock);
    return wait_read_fn && wait_write_fn ? 0 : -1;
}

/* Compiles the built-in green.py into a module. New reference or NULL. */
static PyObject *load_loop_module(void)
{
    PyObject *code = Py_CompileString(chd_green_py_source, "spawning/green.py", Py_file_input);
    PyObject *mod = code ? PyImport_ExecCodeModule("spawning_green_loop", code) : NULL;
    Py_XDECREF(code);
    return mod;
}

int chd_green_run(const chd_config_t *cfg, const chd_listeners_t *listeners, int control_fd)
{
    green.env = (chd_conn_env_t){.cfg = cfg, .stats = &green.stats, .wait = green_wait,
                                 .on_answered = chd_accesslog_rejected};
    atomic_init(&green.env.draining, false);
    chd_control_init(&green.control, control_fd, &green.env);
    green.listeners = *listeners;
    PyObject *loop = setup_native() == 0 ? load_loop_module() : NULL;
    PyObject *fds = PyTuple_New(listeners->n);
    for (int i = 0; fds && i < listeners->n; i++)
        PyTuple_SET_ITEM(fds, i, PyLong_FromLong(listeners->fds[i]));
    PyObject *rv = loop && fds ? PyObject_CallMethod(loop, "serve", "Oiddd", fds, control_fd,
                                                     cfg->header_timeout, cfg->keepalive,
                                                     cfg->timeout)
                               : NULL;
    Py_XDECREF(fds);
    Py_XDECREF(loop);
    if (!rv) {
        chd_python_log_exception("the green server loop failed");
        return -1;
    }
    Py_DECREF(rv);
    return 0;
}
