/* chd_input: see chd_input.h. */
#include "chd_input.h"
#include "chd_gil.h"

#include <errno.h>
#include <string.h>

typedef struct {
    PyObject_HEAD
    chd_conn_t *conn; /* NULL once detached */
} input_t;

static PyTypeObject input_type;

/* Makes body bytes available. Returns 1 when some are buffered, 0 at the
 * end of the body, -1 with OSError set when the client failed us. */
static int fill(input_t *self)
{
    chd_conn_t *conn = self->conn;
    if (!conn)
        return 0;
    while (cmn_buf_unread(&conn->req.body) == 0) {
        /* After a failure that owes the client an answer (a timeout, a bad
         * body) nothing more is read: the rest of the input is empty. */
        if (conn->req.phase != CHD_REQ_BODY || conn->fail_status != 0)
            return 0;
        int rc;
        CHD_IO_BEGIN
        rc = chd_conn_read_body(conn);
        CHD_IO_END;
        if (rc < 0) { /* the connection has failed (chd_conn_read_body) */
            if (rc == -ECONNRESET)
                PyErr_SetString(PyExc_OSError, "client disconnected before the end of the body");
            else if (rc == -EPROTO)
                PyErr_Format(PyExc_OSError, "bad request body: %s", conn->req.error_reason);
            else if (rc == -ETIMEDOUT)
                PyErr_SetString(PyExc_OSError, "timed out waiting for the request body");
            else
                PyErr_Format(PyExc_OSError, "reading the request body: %s", strerror(-rc));
            return -1;
        }
    }
    return 1;
}

/* Returns up to n buffered bytes and consumes them. */
static size_t take(input_t *self, char *out, size_t n)
{
    cmn_buf_t *body = &self->conn->req.body;
    size_t avail = cmn_buf_unread(body);
    if (n > avail)
        n = avail;
    memcpy(out, cmn_buf_head(body), n);
    cmn_buf_consume(body, n);
    return n;
}

/* Reads up to `limit` bytes (all when limit < 0), stopping after a newline
 * when `line` is set. */
static PyObject *read_some(input_t *self, Py_ssize_t limit, int line)
{
    int more = fill(self);
    if (more < 0)
        return NULL;
    Py_ssize_t cap = more ? (Py_ssize_t)cmn_buf_unread(&self->conn->req.body) : 0;
    if (limit >= 0 && cap > limit)
        cap = limit;
    PyObject *out = PyBytes_FromStringAndSize(NULL, cap);
    Py_ssize_t got = 0;
    while (out && more > 0 && (limit < 0 || got < limit)) {
        cmn_buf_t *body = &self->conn->req.body;
        size_t want = limit < 0 ? cmn_buf_unread(body) : (size_t)(limit - got);
        if (line) {
            const char *nl = memchr(cmn_buf_head(body), '\n', cmn_buf_unread(body));
            if (nl && (size_t)(nl - cmn_buf_head(body)) + 1 < want)
                want = (size_t)(nl - cmn_buf_head(body)) + 1;
        }
        if (want > cmn_buf_unread(body))
            want = cmn_buf_unread(body);
        if (got + (Py_ssize_t)want > cap) {
            cap = cap * 2 > got + (Py_ssize_t)want ? cap * 2 : got + (Py_ssize_t)want;
            if (limit >= 0 && cap > limit)
                cap = limit;
            if (_PyBytes_Resize(&out, cap) < 0)
                return NULL;
        }
        got += (Py_ssize_t)take(self, PyBytes_AS_STRING(out) + got, want);
        if (line && got > 0 && PyBytes_AS_STRING(out)[got - 1] == '\n')
            break;
        if (limit >= 0 && got >= limit)
            break;
        more = fill(self);
        if (more < 0) {
            Py_DECREF(out);
            return NULL;
        }
    }
    if (out && got != cap && _PyBytes_Resize(&out, got) < 0)
        return NULL;
    return out;
}

/* Converts an optional size argument: None or negative means "no limit". */
static int size_arg(PyObject *const *args, Py_ssize_t nargs, const char *fname, Py_ssize_t *out)
{
    *out = -1;
    if (nargs > 1) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most 1 argument", fname);
        return -1;
    }
    if (nargs == 0 || args[0] == Py_None)
        return 0;
    *out = PyNumber_AsSsize_t(args[0], PyExc_OverflowError);
    return (*out == -1 && PyErr_Occurred()) ? -1 : 0;
}

static PyObject *input_read(input_t *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t size;
    if (size_arg(args, nargs, "read", &size) < 0)
        return NULL;
    return read_some(self, size, 0);
}

static PyObject *input_readline(input_t *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t size;
    if (size_arg(args, nargs, "readline", &size) < 0)
        return NULL;
    return read_some(self, size, 1);
}

static PyObject *input_readlines(input_t *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t hint;
    if (size_arg(args, nargs, "readlines", &hint) < 0)
        return NULL;
    PyObject *lines = PyList_New(0);
    Py_ssize_t total = 0;
    while (lines) {
        PyObject *line = read_some(self, -1, 1);
        if (!line) {
            Py_CLEAR(lines);
            break;
        }
        Py_ssize_t n = PyBytes_GET_SIZE(line);
        if (n == 0 || PyList_Append(lines, line) < 0) {
            Py_DECREF(line);
            break;
        }
        Py_DECREF(line);
        total += n;
        if (hint > 0 && total >= hint)
            break;
    }
    return lines;
}

static PyObject *input_next(input_t *self)
{
    PyObject *line = read_some(self, -1, 1);
    if (line && PyBytes_GET_SIZE(line) == 0) {
        Py_DECREF(line);
        return NULL; /* StopIteration */
    }
    return line;
}

static PyMethodDef input_methods[] = {
    {"read", (PyCFunction)(void (*)(void))input_read, METH_FASTCALL, "read(size=-1) -> bytes"},
    {"readline", (PyCFunction)(void (*)(void))input_readline, METH_FASTCALL,
     "readline(size=-1) -> bytes"},
    {"readlines", (PyCFunction)(void (*)(void))input_readlines, METH_FASTCALL,
     "readlines(hint=-1) -> list of bytes"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject input_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "spawning.Input",
    .tp_basicsize = sizeof(input_t),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "wsgi.input: the request body",
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)input_next,
    .tp_methods = input_methods,
};

int chd_input_init(void) { return PyType_Ready(&input_type); }

PyObject *chd_input_new(chd_conn_t *conn)
{
    input_t *self = PyObject_New(input_t, &input_type);
    if (self)
        self->conn = conn;
    return (PyObject *)self;
}

void chd_input_detach(PyObject *input) { ((input_t *)input)->conn = NULL; }
