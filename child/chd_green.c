/* chd_green: see chd_green.h. */
#include "chd_green.h"

#include "chd_accesslog.h"
#include "chd_conn.h"
#include "chd_green_asan.h"
#include "chd_green_conns.h"
#include "chd_linger.h"
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
 * control channel, the listening sockets, the parked connections and what
 * the worker greenlets need of gevent. One per process (the gevent hub runs
 * in the main thread). */
static struct {
    chd_conn_env_t env;
    chd_control_t control;
    chd_listeners_t listeners;
    chd_green_conns_t conns;
    ev_prepare dispatch;      /* on the hub's loop: ready requests to workers */
    PyObject *hub;            /* gevent's hub greenlet */
    PyObject *hub_switch;     /* its switch(), how a worker yields */
    PyObject *getcurrent;     /* greenlet.getcurrent */
    PyObject *greenlet_type;  /* greenlet.greenlet */
    PyObject *work_fn;        /* _spawning_green._work, a worker's run */
    PyObject *workers;        /* a set: every live worker (kept alive while suspended) */
    PyObject *str_switch;     /* "switch" */
    PyObject *on_all_closed;  /* set by when_all_closed, called once */
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

/* --- worker greenlets ---------------------------------------------------
 *
 * A request runs in a worker greenlet (child of the hub) taken from a small
 * pool: a worker serves ready connections until none is left, then parks
 * itself in the pool and switches to the hub. The hub's dispatch (an
 * ev_prepare, before each wait for events) hands the ready FIFO to a worker
 * whenever it is not empty, taking another worker each time one blocks in
 * the app, so a waiting request never holds up the ones behind it. */

#define GREEN_IDLE_WORKERS 32 /* kept for the next requests; more end */

static PyObject *idle_workers[GREEN_IDLE_WORKERS]; /* owned */
static int nidle_workers;

/* --timeout: the requests running now, {greenlet: connection address}
 * (green.py's dict, filled here); switch_trace keeps the hub thread's
 * watchdog slot on the greenlet that runs, so a greenlet that blocks the
 * hub is named (chd_watchdog.h), and green.py's watcher finds the ones that
 * wait on the hub past it. */
static PyObject *running_requests;

/* Enters the running request in the dict (keyed by the current greenlet);
 * returns the key to remove it with, or NULL (no --timeout, or no memory:
 * the C watchdog still sees a request that blocks the hub). */
static PyObject *running_enter(chd_conn_t *conn)
{
    if (!running_requests)
        return NULL;
    PyObject *me = PyObject_CallNoArgs(green.getcurrent);
    PyObject *id = me ? PyLong_FromVoidPtr(conn) : NULL;
    if (!id || PyDict_SetItem(running_requests, me, id) < 0) {
        PyErr_Clear();
        Py_CLEAR(me);
    }
    Py_XDECREF(id);
    return me;
}

static void running_leave(PyObject *me)
{
    if (me && running_requests && PyDict_DelItem(running_requests, me) < 0)
        PyErr_Clear();
    Py_XDECREF(me);
}

/* Serves one ready request in the current worker greenlet. GIL. */
static void serve_ready(chd_conn_t *conn)
{
    PyObject *me = running_enter(conn);
    chd_wsgi_serve(conn);
    running_leave(me);
    chd_control_request_done(&green.control);
    chd_green_conns_finish(conn);
}

/* A worker is ending: out of the pool and the set of live ones; drops the
 * caller's reference. Keeps the exception being raised, if any. */
static void forget_worker(PyObject *me)
{
    for (int i = 0; i < nidle_workers; i++)
        if (idle_workers[i] == me) {
            idle_workers[i] = idle_workers[--nidle_workers];
            Py_DECREF(me);
            break;
        }
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    if (PySet_Discard(green.workers, me) < 0)
        PyErr_Clear();
    PyErr_Restore(type, value, tb);
    Py_DECREF(me);
}

/* A worker greenlet's run: serves while requests are ready, then waits in
 * the pool to be switched to again. Returns (ending the greenlet) when the
 * pool is full, or with the exception that killed it. */
static PyObject *mod_work(PyObject *mod, PyObject *unused)
{
    (void)mod;
    (void)unused;
    PyObject *me = PyObject_CallNoArgs(green.getcurrent); /* new reference */
    if (!me)
        return NULL;
    for (;;) {
        chd_conn_t *conn = chd_green_conns_next_ready(&green.conns);
        if (conn) {
            serve_ready(conn);
            continue;
        }
        if (nidle_workers == GREEN_IDLE_WORKERS)
            break;
        idle_workers[nidle_workers++] = me;
        Py_INCREF(me);
        PyObject *rv = PyObject_CallNoArgs(green.hub_switch);
        if (!rv) { /* killed while idle: leave the pool */
            forget_worker(me);
            return NULL;
        }
        Py_DECREF(rv);
    }
    forget_worker(me);
    Py_RETURN_NONE;
}

/* An idle worker, or a new one. New reference, or NULL with an exception. */
static PyObject *take_worker(void)
{
    if (nidle_workers > 0)
        return idle_workers[--nidle_workers];
    PyObject *worker = PyObject_CallFunctionObjArgs(green.greenlet_type, green.work_fn,
                                                    green.hub, NULL);
    if (worker && PySet_Add(green.workers, worker) < 0) /* alive while it is suspended */
        Py_CLEAR(worker);
    return worker;
}

/* ev_prepare on the hub's loop: no ready request may wait for the next
 * events. Called without the GIL (gevent runs its loop without it). */
static void on_dispatch(struct ev_loop *loop, ev_prepare *w, int revents)
{
    (void)loop;
    (void)w;
    (void)revents;
    if (!chd_green_conns_have_ready(&green.conns))
        return;
    PyGILState_STATE gil = PyGILState_Ensure();
    while (chd_green_conns_have_ready(&green.conns)) {
        PyObject *worker = take_worker();
        PyObject *rv = worker ? PyObject_CallMethodNoArgs(worker, green.str_switch) : NULL;
        Py_XDECREF(worker);
        if (!rv) {
            chd_python_log_exception("a green worker failed");
            break; /* the next turn of the loop tries again */
        }
        Py_DECREF(rv);
    }
    PyGILState_Release(gil);
}

/* chd_conn_env_t.on_close: the end of a drain once the last one closed
 * (and the last lingering socket, chd_linger.h). */
static void on_conn_closed(void *owner)
{
    (void)owner;
    if (!green.on_all_closed || !atomic_load(&green.env.draining) ||
        atomic_load(&green.env.stats->connections) > 0 || chd_linger_any(&green.env))
        return;
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *fn = green.on_all_closed;
    green.on_all_closed = NULL;
    PyObject *rv = PyObject_CallNoArgs(fn);
    if (!rv)
        chd_python_log_exception("green mode: ending the drain");
    Py_XDECREF(rv);
    Py_DECREF(fn);
    PyGILState_Release(gil);
}

/* accept(listen_fd) -> True when a connection was taken (it is watched in
 * C from then on), None when no client is waiting. Raises OSError when
 * out of descriptors. */
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
    chd_green_conns_open(&green.conns, fd, (struct sockaddr *)&peer,
                         chd_listeners_of(&green.listeners, listen_fd));
    Py_RETURN_TRUE;
}

/* when_all_closed(fn): once draining, fn() is called when the last
 * connection has closed (at once if none is open). */
static PyObject *mod_when_all_closed(PyObject *mod, PyObject *fn)
{
    (void)mod;
    Py_XSETREF(green.on_all_closed, Py_NewRef(fn));
    on_conn_closed(NULL);
    Py_RETURN_NONE;
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
    if (!atomic_exchange(&green.env.draining, true)) {
        cmn_info("draining: %d connection(s) open", atomic_load(&green.env.stats->connections));
        chd_green_conns_drain(&green.conns);
    }
    Py_RETURN_NONE;
}

static PyObject *mod_close_listener(PyObject *mod, PyObject *unused)
{
    (void)mod;
    (void)unused;
    chd_listeners_close(&green.listeners);
    Py_RETURN_NONE;
}

/* The connection the dict's greenlet runs a request for; NULL when none. */
static chd_conn_t *running_conn(PyObject *greenlet)
{
    PyObject *id = running_requests ? PyDict_GetItemWithError(running_requests, greenlet) : NULL;
    return id ? PyLong_AsVoidPtr(id) : NULL; /* borrowed */
}

static PyObject *mod_watch(PyObject *mod, PyObject *running)
{
    (void)mod;
    Py_XSETREF(running_requests, running == Py_None ? NULL : Py_NewRef(running));
    Py_RETURN_NONE;
}

/* switch_trace(event, (origin, target)): greenlet.settrace's callback, at
 * every switch, on the target's stack; installed with --timeout, and always
 * in the sanitizer build (chd_green_asan.h). */
static PyObject *mod_switch_trace(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    (void)mod;
    chd_green_asan_switched(); /* before anything here touches the stack */
    PyObject *target = nargs == 2 && PyTuple_Check(args[1]) && PyTuple_GET_SIZE(args[1]) == 2
                           ? PyTuple_GET_ITEM(args[1], 1)
                           : NULL;
    chd_conn_t *conn = target ? running_conn(target) : NULL;
    if (conn)
        chd_watchdog_begin(conn);
    else
        chd_watchdog_end();
    if (PyErr_Occurred())
        return NULL;
    Py_RETURN_NONE;
}

/* overdue(greenlet) -> True when the request it runs is past --timeout and
 * not handled yet. */
static PyObject *mod_overdue(PyObject *mod, PyObject *greenlet)
{
    (void)mod;
    chd_conn_t *conn = running_conn(greenlet);
    if (!conn && PyErr_Occurred())
        return NULL;
    return PyBool_FromLong(conn && chd_watchdog_is_overdue(conn, chd_monotonic()));
}

/* time_out(greenlet, stack): --timeout for a request whose greenlet waits
 * on the hub (chd_watchdog_overran); stack: its traceback lines. */
static PyObject *mod_time_out(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    (void)mod;
    const char *text = nargs == 2 ? PyUnicode_AsUTF8(args[1]) : NULL;
    if (!text)
        return NULL;
    chd_conn_t *conn = running_conn(args[0]);
    if (conn)
        chd_watchdog_overran(conn, "in its greenlet (waiting on the hub)", text);
    if (PyErr_Occurred())
        return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef mod_methods[] = {
    {"watch", mod_watch, METH_O, NULL},
    {"switch_trace", (PyCFunction)(void (*)(void))mod_switch_trace, METH_FASTCALL, NULL},
    {"overdue", mod_overdue, METH_O, NULL},
    {"time_out", (PyCFunction)(void (*)(void))mod_time_out, METH_FASTCALL, NULL},
    {"accept", mod_accept, METH_O, NULL},
    {"control_message", mod_control_message, METH_NOARGS, NULL},
    {"set_draining", mod_set_draining, METH_NOARGS, NULL},
    {"close_listener", mod_close_listener, METH_NOARGS, NULL},
    {"when_all_closed", mod_when_all_closed, METH_O, NULL},
    {"_work", mod_work, METH_NOARGS, NULL},
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

/* The hub's libev loop, which must be the one of the libev this program
 * links (Debian's gevent uses the system's libev): connections are watched
 * on it with plain libev watchers. NULL with an exception otherwise. */
static struct ev_loop *hub_loop(void)
{
    PyObject *pyloop = PyObject_GetAttrString(green.hub, "loop");
    PyObject *ptr = pyloop ? PyObject_GetAttrString(pyloop, "ptr") : NULL;
    void *p = ptr ? PyLong_AsVoidPtr(ptr) : NULL;
    Py_XDECREF(ptr);
    Py_XDECREF(pyloop);
    if (PyErr_Occurred())
        return NULL;
    struct ev_loop *mine = ev_default_loop(EVFLAG_AUTO);
    if (!p || p != (void *)mine) {
        PyErr_SetString(PyExc_RuntimeError, "green mode needs gevent's default libev loop "
                                            "(the system's libev; not GEVENT_LOOP=libuv)");
        return NULL;
    }
    return mine;
}

/* gevent's hub, greenlet's switch, and the dispatch watcher. */
static int setup_workers(PyObject *mod)
{
    PyObject *ghub = PyImport_ImportModule("gevent.hub");
    green.hub = ghub ? PyObject_CallMethod(ghub, "get_hub", NULL) : NULL;
    Py_XDECREF(ghub);
    PyObject *glet = PyImport_ImportModule("greenlet");
    green.getcurrent = glet ? PyObject_GetAttrString(glet, "getcurrent") : NULL;
    green.greenlet_type = glet ? PyObject_GetAttrString(glet, "greenlet") : NULL;
    Py_XDECREF(glet);
    green.hub_switch = green.hub ? PyObject_GetAttrString(green.hub, "switch") : NULL;
    green.work_fn = PyObject_GetAttrString(mod, "_work");
    green.workers = PySet_New(NULL);
    green.str_switch = PyUnicode_InternFromString("switch");
    if (!green.getcurrent || !green.greenlet_type || !green.hub_switch || !green.work_fn ||
        !green.workers || !green.str_switch)
        return -1;
    struct ev_loop *loop = hub_loop();
    if (!loop)
        return -1;
    chd_green_conns_init(&green.conns, loop, &green.env);
    ev_prepare_init(&green.dispatch, on_dispatch);
    ev_prepare_start(loop, &green.dispatch);
    ev_unref(loop); /* the dispatch alone does not keep the hub's loop running */
    return 0;
}

/* Registers _spawning_green, imports gevent's waiters, readies the workers. */
static int setup_native(void)
{
    PyObject *mod = PyModule_Create(&mod_def);
    PyObject *modules = PySys_GetObject("modules"); /* borrowed */
    int rc = mod && modules ? PyDict_SetItemString(modules, "_spawning_green", mod) : -1;
    if (rc == 0) /* green.py then traces every switch (chd_green_asan.h) */
        rc = PyModule_AddObjectRef(mod, "ASAN_BUILD", chd_green_asan_on() ? Py_True : Py_False);
    PyObject *gsock = rc == 0 ? PyImport_ImportModule("gevent.socket") : NULL;
    wait_read_fn = gsock ? PyObject_GetAttrString(gsock, "wait_read") : NULL;
    wait_write_fn = gsock ? PyObject_GetAttrString(gsock, "wait_write") : NULL;
    Py_XDECREF(gsock);
    rc = wait_read_fn && wait_write_fn ? setup_workers(mod) : -1;
    Py_XDECREF(mod);
    return rc;
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
    green.env = (chd_conn_env_t){.cfg = cfg, .stats = chd_stats_open(cfg->stats_fd),
                                 .wait = green_wait, .on_close = on_conn_closed,
                                 .on_answered = chd_accesslog_rejected};
    if (!green.env.stats)
        return -1;
    atomic_init(&green.env.draining, false);
    chd_control_init(&green.control, control_fd, &green.env);
    green.control.tls = listeners->tls_ctx;
    green.listeners = *listeners;
    chd_green_asan_init(); /* this thread's stack is the greenlets' */
    PyObject *loop = setup_native() == 0 ? load_loop_module() : NULL;
    PyObject *fds = PyTuple_New(listeners->n);
    for (int i = 0; fds && i < listeners->n; i++)
        PyTuple_SET_ITEM(fds, i, PyLong_FromLong(listeners->fds[i]));
    PyObject *rv = loop && fds ? PyObject_CallMethod(loop, "serve", "Oid", fds, control_fd,
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
