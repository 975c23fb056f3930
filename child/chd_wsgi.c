/* chd_wsgi: see chd_wsgi.h. */
#include "chd_wsgi.h"

#include "chd_accesslog.h"
#include "chd_environ.h"
#include "chd_filewrapper.h"
#include "chd_gil.h"
#include "chd_input.h"
#include "chd_python.h"
#include "chd_response.h"
#include "chd_watchdog.h"
#include "cmn_log.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#define DISCARD_BODY_LIMIT (1024 * 1024) /* unread body drained to keep the connection */

static PyObject *the_app;
bool chd_gil_release_for_io = true;

/* start_response, and the state of the response it starts. */
typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall; /* start_response(...) without a tuple of arguments */
    chd_conn_t *conn; /* NULL once the request is over */
    chd_response_t resp;
    bool started;     /* start_response called */
    bool finished;    /* the whole response is out (or abandoned) */
    bool send_failed; /* the client went away */
} responder_t;

static PyTypeObject responder_type;

#define SEND_WITH_GIL_MAX 16384 /* bytes written without letting go of the GIL */

static size_t iov_bytes(const struct iovec *iov, int n)
{
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += iov[i].iov_len;
    return total;
}

/* Writes iov. A small write that the socket takes at once is made with the
 * GIL held (a non-blocking copy of a few KiB: cheaper than two GIL
 * switches); whatever is left is written with the GIL released, waits
 * included (chd_gil.h). On failure (the connection has failed: chd_conn_send)
 * sets OSError. Returns 0 or -1. */
static int send_iov(responder_t *r, struct iovec *iov, int n)
{
    int rc = 0;
    chd_conn_t *conn = r->conn;
    if (iov_bytes(iov, n) <= SEND_WITH_GIL_MAX)
        rc = chd_conn_send_now(conn, &iov, &n);
    if (rc == 0 && n > 0) {
        CHD_IO_BEGIN
        rc = chd_conn_send(conn, iov, n);
        CHD_IO_END;
    }
    if (rc < 0) {
        r->send_failed = true;
        PyErr_Format(PyExc_OSError, "client connection lost: %s", strerror(-rc));
        return -1;
    }
    return 0;
}

/* Sends the head if it is not out yet, then len body bytes (framed as the
 * head says, cut at the app's Content-Length, dropped for HEAD).
 * known_length: the body length if known before the head goes out, else -1. */
static int send_body(responder_t *r, const char *data, size_t len, int64_t known_length)
{
    chd_response_t *resp = &r->resp;
    struct iovec iov[4];
    int n = 0;
    char chunk_line[24];
    if (!resp->head_finished) {
        chd_response_finish_head(resp, &r->conn->req, known_length,
                                 chd_conn_env_closing(r->conn->env));
        iov[n++] = (struct iovec){cmn_buf_head(&resp->head), cmn_buf_unread(&resp->head)};
    }
    if (resp->no_body)
        len = 0;
    if (resp->content_length >= 0 && resp->body_bytes + len > (uint64_t)resp->content_length) {
        len = (size_t)((uint64_t)resp->content_length - resp->body_bytes);
        resp->close = true; /* the app sent more than it announced */
        chd_conn_fail(r->conn, 0, CHD_CLOSE_APP_ERROR);
    }
    if (len > 0 && resp->chunked)
        iov[n++] = (struct iovec){chunk_line, chd_response_chunk_line(chunk_line, len)};
    if (len > 0)
        iov[n++] = (struct iovec){(void *)data, len};
    if (len > 0 && resp->chunked)
        iov[n++] = (struct iovec){(void *)"\r\n", 2};
    resp->body_bytes += len;
    return n > 0 ? send_iov(r, iov, n) : 0;
}

/* Ends the response (the head if the body was empty, the last chunk) and
 * returns the connection's keep-alive decision: the response's own
 * (chd_response_finish) when all of it went out, recorded in the
 * connection (chd_conn_finish_response). A send failure leaves OSError set. */
static bool finish_response(responder_t *r)
{
    chd_response_t *resp = &r->resp;
    int rc = 0;
    if (!resp->head_finished)
        rc = send_body(r, NULL, 0, 0);
    if (rc == 0 && resp->chunked) {
        struct iovec last = {(void *)"0\r\n\r\n", 5};
        rc = send_iov(r, &last, 1);
    }
    if (chd_response_cut_short(resp)) {
        cmn_warning("response shorter than its Content-Length (%llu of %lld bytes); closing",
                    (unsigned long long)resp->body_bytes, (long long)resp->content_length);
        chd_conn_fail(r->conn, 0, CHD_CLOSE_APP_ERROR);
    }
    r->finished = true;
    return chd_conn_finish_response(r->conn, rc == 0 && chd_response_finish(resp));
}

/* A native string (str with latin-1 code points only) as bytes. Sets
 * TypeError/ValueError naming `what` otherwise. */
static const char *native_string(PyObject *s, const char *what, Py_ssize_t *len)
{
    if (!PyUnicode_Check(s)) {
        PyErr_Format(PyExc_TypeError, "%s must be str, not %.100s", what, Py_TYPE(s)->tp_name);
        return NULL;
    }
    if (PyUnicode_KIND(s) != PyUnicode_1BYTE_KIND) {
        PyErr_Format(PyExc_ValueError, "%s must contain only latin-1 characters", what);
        return NULL;
    }
    *len = PyUnicode_GET_LENGTH(s);
    return (const char *)PyUnicode_1BYTE_DATA(s);
}

static int set_headers(responder_t *r, PyObject *headers)
{
    if (!PyList_Check(headers)) {
        PyErr_Format(PyExc_TypeError, "response headers must be a list, not %.100s",
                     Py_TYPE(headers)->tp_name);
        return -1;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(headers); i++) {
        PyObject *item = PyList_GET_ITEM(headers, i);
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2) {
            PyErr_SetString(PyExc_TypeError, "each response header must be a (name, value) tuple");
            return -1;
        }
        Py_ssize_t nlen, vlen;
        const char *name = native_string(PyTuple_GET_ITEM(item, 0), "header name", &nlen);
        const char *value = name ? native_string(PyTuple_GET_ITEM(item, 1), "header value", &vlen)
                                 : NULL;
        if (!value)
            return -1;
        if (chd_response_add_header(&r->resp, name, (size_t)nlen, value, (size_t)vlen) < 0) {
            PyErr_Format(PyExc_ValueError, "invalid response header %R (CR, LF, NUL or a bad name)",
                         item);
            return -1;
        }
    }
    return 0;
}

/* Re-raises exc_info (a 3-tuple) as the current exception. */
static PyObject *reraise(PyObject *exc_info)
{
    if (!PyTuple_Check(exc_info) || PyTuple_GET_SIZE(exc_info) != 3) {
        PyErr_SetString(PyExc_TypeError, "exc_info must be a 3-tuple");
        return NULL;
    }
    PyObject *type = PyTuple_GET_ITEM(exc_info, 0);
    PyObject *value = PyTuple_GET_ITEM(exc_info, 1);
    PyObject *tb = PyTuple_GET_ITEM(exc_info, 2);
    PyErr_Restore(Py_NewRef(type), Py_NewRef(value), tb == Py_None ? NULL : Py_NewRef(tb));
    return NULL;
}

/* start_response's arguments: (status, headers[, exc_info]), also by name.
 * Returns 0 or -1 with TypeError set. */
static int start_response_args(PyObject *const *args, size_t nargsf, PyObject *kwnames,
                               PyObject *out[3])
{
    static const char *const names[3] = {"status", "headers", "exc_info"};
    Py_ssize_t npos = PyVectorcall_NARGS(nargsf);
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    if (npos > 3) {
        PyErr_Format(PyExc_TypeError, "start_response() takes at most 3 arguments (%zd given)",
                     npos + nkw);
        return -1;
    }
    out[0] = out[1] = out[2] = NULL;
    for (Py_ssize_t i = 0; i < npos; i++)
        out[i] = args[i];
    for (Py_ssize_t k = 0; k < nkw; k++) {
        PyObject *name = PyTuple_GET_ITEM(kwnames, k);
        int slot = -1;
        for (int i = 0; i < 3 && slot < 0; i++)
            if (PyUnicode_CompareWithASCIIString(name, names[i]) == 0)
                slot = i;
        if (slot < 0 || out[slot]) {
            PyErr_Format(PyExc_TypeError, slot < 0 ? "start_response() got an unexpected keyword "
                                                     "argument '%U'"
                                                   : "start_response() got multiple values for "
                                                     "argument '%U'",
                         name);
            return -1;
        }
        out[slot] = args[npos + k];
    }
    if (!out[0] || !out[1]) {
        PyErr_SetString(PyExc_TypeError,
                        "start_response() missing required argument 'status' or 'headers'");
        return -1;
    }
    if (!out[2])
        out[2] = Py_None;
    return 0;
}

static PyObject *write_callable(responder_t *r);

static PyObject *responder_vectorcall(PyObject *self, PyObject *const *args, size_t nargsf,
                                      PyObject *kwnames)
{
    responder_t *r = (responder_t *)self;
    PyObject *arg[3];
    if (start_response_args(args, nargsf, kwnames, arg) < 0)
        return NULL;
    PyObject *status = arg[0], *headers = arg[1], *exc_info = arg[2];
    if (!r->conn) {
        PyErr_SetString(PyExc_RuntimeError, "start_response called after the request ended");
        return NULL;
    }
    if (exc_info != Py_None) {
        if (r->resp.head_finished)
            return reraise(exc_info);
        chd_response_reset(&r->resp);
        r->started = false;
    } else if (r->started) {
        PyErr_SetString(PyExc_RuntimeError,
                        "start_response called a second time without exc_info");
        return NULL;
    }
    Py_ssize_t slen;
    const char *s = native_string(status, "status", &slen);
    if (!s)
        return NULL;
    if (chd_response_set_status(&r->resp, s, (size_t)slen) < 0) {
        PyErr_Format(PyExc_ValueError, "invalid status %R (want e.g. '200 OK')", status);
        return NULL;
    }
    if (set_headers(r, headers) < 0) {
        chd_response_reset(&r->resp);
        return NULL;
    }
    r->started = true;
    return write_callable(r);
}

static PyObject *responder_write(responder_t *r, PyObject *data)
{
    if (!r->conn || r->finished) {
        PyErr_SetString(PyExc_RuntimeError, "write() called after the response ended");
        return NULL;
    }
    if (!r->started) {
        PyErr_SetString(PyExc_RuntimeError, "write() called before start_response()");
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    int rc = view.len > 0 ? send_body(r, view.buf, (size_t)view.len, -1) : 0;
    PyBuffer_Release(&view);
    if (rc < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* Head buffers of finished responses, handed to the next ones so that a
 * request does not cost a malloc and a free for its head. Guarded by the
 * GIL (responders are made and freed with it held). */
#define SPARE_HEADS 8
#define SPARE_HEAD_MAX_CAP 8192 /* a huge head is not kept */
static cmn_buf_t spare_heads[SPARE_HEADS];
static int nspare_heads;

static void responder_dealloc(responder_t *r)
{
    cmn_buf_t *head = &r->resp.head;
    if (head->data && head->cap <= SPARE_HEAD_MAX_CAP && nspare_heads < SPARE_HEADS) {
        cmn_buf_clear(head);
        spare_heads[nspare_heads++] = *head;
    } else {
        chd_response_free(&r->resp);
    }
    Py_TYPE(r)->tp_free((PyObject *)r);
}

static PyMethodDef responder_methods[] = {
    {"write", (PyCFunction)responder_write, METH_O, "write(data): send body bytes now"},
    {NULL, NULL, 0, NULL},
};

/* The write() callable start_response returns: the bound method, made
 * directly rather than by an attribute lookup by name. */
static PyObject *write_callable(responder_t *r)
{
    return PyCFunction_NewEx(&responder_methods[0], (PyObject *)r, NULL);
}

static PyTypeObject responder_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "spawning.StartResponse",
    .tp_basicsize = sizeof(responder_t),
    .tp_dealloc = (destructor)responder_dealloc,
    .tp_call = PyVectorcall_Call,
    .tp_vectorcall_offset = offsetof(responder_t, vectorcall),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "start_response(status, headers, exc_info=None) -> write",
    .tp_methods = responder_methods,
};

static responder_t *responder_new(chd_conn_t *conn)
{
    responder_t *r = PyObject_New(responder_t, &responder_type);
    if (!r)
        return NULL;
    r->vectorcall = responder_vectorcall;
    r->conn = conn;
    chd_response_init(&r->resp);
    if (nspare_heads > 0)
        r->resp.head = spare_heads[--nspare_heads];
    r->started = r->finished = r->send_failed = false;
    return r;
}

/* Sends a small text/plain error response in place of the app's. */
static void send_error_response(responder_t *r, int status)
{
    char line[64], body[64];
    const char *phrase = chd_reason_phrase(status);
    int llen = snprintf(line, sizeof line, "%d %s", status, phrase);
    int blen = snprintf(body, sizeof body, "%s\n", phrase);
    chd_response_reset(&r->resp);
    chd_response_set_status(&r->resp, line, (size_t)llen);
    chd_response_add_header(&r->resp, "Content-Type", 12, "text/plain; charset=utf-8", 25);
    if (status != 500)
        r->resp.close = true; /* the request itself was bad */
    r->started = true;
    if (send_body(r, body, (size_t)blen, blen) == 0)
        finish_response(r);
    PyErr_Clear(); /* a send failure: the connection has failed already */
    r->finished = true;
}

/* Logs the current exception against the request, then answers 500 if the
 * head is not out yet, or gives up on the connection if it is. */
static void app_failed(responder_t *r)
{
    chd_conn_t *conn = r->conn;
    if (r->send_failed) {
        PyErr_Clear(); /* the client left; nothing to report */
        r->finished = true;
        return;
    }
    /* A body the client got wrong (too large, malformed, too slow) is its
     * error, not the app's: answer with the status its failure owes. */
    int status = conn->fail_status ? conn->fail_status : 500;
    char title[512];
    snprintf(title, sizeof title, "Error handling request %s %.*s", chd_request_method(&conn->req),
             (int)(conn->req.url_len > 400 ? 400 : conn->req.url_len), chd_request_url(&conn->req));
    if (status == 500) {
        chd_python_log_exception(title);
    } else {
        PyErr_Clear();
        cmn_info("%s: %d %s", title, status, chd_conn_failure_words(conn));
    }
    if (r->resp.head_finished || r->finished) {
        chd_conn_fail(conn, 0, CHD_CLOSE_APP_ERROR); /* the client sees a cut-short response */
        r->finished = true;
        return;
    }
    send_error_response(r, status);
}

/* Sends a wsgi.file_wrapper over a regular file with sendfile(). Returns 1
 * when sent (or failed while sending), 0 when the object does not qualify
 * (the caller iterates it instead). */
static int try_sendfile(responder_t *r, PyObject *result)
{
    if (Py_TYPE(result) != &chd_filewrapper_type || !r->started || r->resp.head_finished)
        return 0;
    PyObject *filelike = ((chd_filewrapper_t *)result)->filelike;
    int fd = PyObject_AsFileDescriptor(filelike);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        PyErr_Clear();
        return 0;
    }
    PyObject *pos = PyObject_CallMethod(filelike, "tell", NULL);
    off_t offset = pos ? (off_t)PyLong_AsLongLong(pos) : -1;
    Py_XDECREF(pos);
    if (offset < 0 || PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    int64_t length = st.st_size > offset ? (int64_t)(st.st_size - offset) : 0;
    if (r->resp.content_length >= 0 && r->resp.content_length < length)
        length = r->resp.content_length;
    if (send_body(r, NULL, 0, length) < 0)
        return 1;
    if (!r->resp.no_body && length > 0) {
        int rc;
        CHD_IO_BEGIN
        rc = chd_conn_sendfile(r->conn, fd, &offset, (size_t)length);
        CHD_IO_END;
        if (rc < 0) {
            r->send_failed = true; /* the connection has failed (chd_conn_sendfile) */
            return 1;
        }
        r->resp.body_bytes += (uint64_t)length;
    }
    return 1;
}

/* Sends the body from the app's iterable. Returns 0, or -1 with a Python
 * exception set. */
static int send_iterable(responder_t *r, PyObject *result)
{
    if ((PyList_CheckExact(result) || PyTuple_CheckExact(result)) && PySequence_Fast_GET_SIZE(result) == 1 &&
        PyBytes_CheckExact(PySequence_Fast_GET_ITEM(result, 0)) && r->started &&
        !r->resp.head_finished) {
        PyObject *only = PySequence_Fast_GET_ITEM(result, 0); /* the common case: one write */
        Py_ssize_t len = PyBytes_GET_SIZE(only);
        return send_body(r, PyBytes_AS_STRING(only), (size_t)len, len);
    }
    if (try_sendfile(r, result))
        return r->send_failed ? -1 : 0;
    PyObject *it = PyObject_GetIter(result);
    if (!it)
        return -1;
    PyObject *item;
    int rc = 0;
    while (rc == 0 && (item = PyIter_Next(it))) {
        if (!PyBytes_Check(item)) {
            PyErr_Format(PyExc_TypeError, "response body items must be bytes, not %.100s",
                         Py_TYPE(item)->tp_name);
            rc = -1;
        } else if (PyBytes_GET_SIZE(item) > 0) {
            if (!r->started) {
                PyErr_SetString(PyExc_RuntimeError, "body produced before start_response()");
                rc = -1;
            } else {
                rc = send_body(r, PyBytes_AS_STRING(item), (size_t)PyBytes_GET_SIZE(item), -1);
            }
        }
        Py_DECREF(item);
    }
    Py_DECREF(it);
    return (rc < 0 || PyErr_Occurred()) ? -1 : 0;
}

/* Calls result.close() if it has one; failures are logged, not raised. */
static void close_result(PyObject *result)
{
    static PyObject *close_name;
    /* What apps return most: lists and tuples, which have no close(). */
    if (PyList_CheckExact(result) || PyTuple_CheckExact(result))
        return;
    if (!close_name && !(close_name = PyUnicode_InternFromString("close"))) {
        PyErr_Clear();
        return;
    }
    PyObject *close;
    int found = _PyObject_LookupAttr(result, close_name, &close); /* no AttributeError made */
    if (found < 0)
        chd_python_log_exception("Error looking up close() on the response iterable");
    if (found <= 0)
        return;
    PyObject *rv = PyObject_CallNoArgs(close);
    Py_DECREF(close);
    if (rv)
        Py_DECREF(rv);
    else
        chd_python_log_exception("Error closing the response iterable");
}

/* Runs the app and sends its response. GIL held. */
static void run_app(chd_conn_t *conn, responder_t *r, PyObject *input)
{
    PyObject *environ = chd_environ_build(conn, input);
    PyObject *args[2] = {environ, (PyObject *)r};
    PyObject *result = environ ? PyObject_Vectorcall(the_app, args, 2, NULL) : NULL;
    Py_XDECREF(environ);
    if (!result) {
        app_failed(r);
        return;
    }
    if (send_iterable(r, result) < 0)
        app_failed(r);
    else if (!r->started) {
        PyErr_SetString(PyExc_RuntimeError, "the application returned without calling start_response()");
        app_failed(r);
    }
    close_result(result); /* PEP 3333: always, even after an error */
    Py_DECREF(result);
    if (!r->finished) {
        finish_response(r);
        PyErr_Clear(); /* a send failure: the connection has failed already */
    }
}

/* Adds the response to the child's counters (chd_stats.h) and to the
 * access log. */
static void count_response(chd_stats_t *stats, const responder_t *r)
{
    chd_accesslog_response(r->conn, &r->resp);
    const chd_request_t *req = &r->conn->req;
    uint64_t head = r->resp.head_finished ? cmn_buf_unread(&r->resp.head) : 0;
    chd_stats_request_end(stats, chd_stats_method_class(req->method, req->method_unknown),
                          r->resp.status, head + r->resp.body_bytes,
                          chd_monotonic() - r->conn->request_started);
}

/* Keeps a connection the response left open usable: the unread rest of the
 * body is read and dropped, unless the client still waits for "100
 * Continue" (then it never sent the body) or it is too large (the
 * connection then fails: UNREAD_BODY). GIL held. */
static void settle_body(chd_conn_t *conn)
{
    if (chd_conn_closing(conn) || conn->req.phase == CHD_REQ_DONE)
        return;
    if (conn->req.phase != CHD_REQ_BODY || (conn->req.expect_continue && !conn->continue_sent)) {
        chd_conn_fail(conn, 0, CHD_CLOSE_UNREAD_BODY);
        return;
    }
    CHD_IO_BEGIN
    chd_conn_discard_body(conn, DISCARD_BODY_LIMIT); /* a failure fails the connection */
    CHD_IO_END;
}

static __thread PyThreadState *worker_tstate;
static __thread PyGILState_STATE worker_gilstate;

void chd_wsgi_thread_start(void *ctx)
{
    (void)ctx;
    worker_gilstate = PyGILState_Ensure();
    worker_tstate = PyEval_SaveThread();
}

void chd_wsgi_thread_stop(void *ctx)
{
    (void)ctx;
    PyEval_RestoreThread(worker_tstate);
    PyGILState_Release(worker_gilstate);
}

void chd_wsgi_handle(chd_conn_t *conn, void *ctx)
{
    (void)ctx;
    PyEval_RestoreThread(worker_tstate);
    chd_wsgi_serve(conn);
    PyEval_SaveThread();
}

void chd_wsgi_handle_inline(chd_conn_t *conn, void *tstate)
{
    PyEval_RestoreThread(tstate);
    chd_wsgi_serve(conn);
    PyEval_SaveThread();
}

void chd_wsgi_serve(chd_conn_t *conn)
{
    chd_stats_app_called(conn->env->stats, chd_monotonic() - conn->request_started);
    chd_watchdog_begin(conn); /* --timeout watches it from here */
    PyObject *input = chd_input_new(conn);
    responder_t *r = input ? responder_new(conn) : NULL;
    if (r) {
        run_app(conn, r, input);
        count_response(conn->env->stats, r);
        r->conn = NULL;
        Py_DECREF(r);
    } else {
        chd_python_log_exception("cannot set up a request");
        chd_conn_fail(conn, 0, CHD_CLOSE_OUT_OF_MEMORY);
        chd_stats_request_end(conn->env->stats,
                              chd_stats_method_class(conn->req.method, conn->req.method_unknown),
                              0, 0, 0); /* no response: the connection just closes */
    }
    if (input) {
        chd_input_detach(input);
        Py_DECREF(input);
    }
    settle_body(conn);
    chd_watchdog_end();
}

int chd_wsgi_init(PyObject *app, const chd_config_t *cfg)
{
    if (PyType_Ready(&responder_type) < 0 || chd_input_init() < 0 || chd_filewrapper_init() < 0 ||
        chd_environ_init(cfg) < 0)
        return -1;
    the_app = Py_NewRef(app);
    chd_gil_release_for_io = cfg->threads > 0;
    return 0;
}
