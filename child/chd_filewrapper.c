/* chd_filewrapper: see chd_filewrapper.h. */
#include "chd_filewrapper.h"

#include <structmember.h>

static PyObject *fw_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"filelike", "blksize", NULL};
    PyObject *filelike;
    Py_ssize_t blksize = 8192;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|n:file_wrapper", kwlist, &filelike,
                                     &blksize))
        return NULL;
    if (blksize <= 0) {
        PyErr_SetString(PyExc_ValueError, "blksize must be positive");
        return NULL;
    }
    chd_filewrapper_t *self = (chd_filewrapper_t *)type->tp_alloc(type, 0);
    if (!self)
        return NULL;
    self->filelike = Py_NewRef(filelike);
    self->blksize = blksize;
    return (PyObject *)self;
}

static void fw_dealloc(chd_filewrapper_t *self)
{
    Py_CLEAR(self->filelike);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *fw_next(chd_filewrapper_t *self)
{
    PyObject *data = PyObject_CallMethod(self->filelike, "read", "n", self->blksize);
    if (!data)
        return NULL;
    if (PyBytes_Check(data) && PyBytes_GET_SIZE(data) == 0) {
        Py_DECREF(data);
        return NULL; /* StopIteration */
    }
    return data;
}

static PyObject *fw_close(chd_filewrapper_t *self, PyObject *unused)
{
    (void)unused;
    if (PyObject_HasAttrString(self->filelike, "close"))
        return PyObject_CallMethod(self->filelike, "close", NULL);
    Py_RETURN_NONE;
}

static PyMethodDef fw_methods[] = {
    {"close", (PyCFunction)fw_close, METH_NOARGS, "Close the wrapped file."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef fw_members[] = {
    {"filelike", T_OBJECT, offsetof(chd_filewrapper_t, filelike), READONLY, NULL},
    {"blksize", T_PYSSIZET, offsetof(chd_filewrapper_t, blksize), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

PyTypeObject chd_filewrapper_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "spawning.FileWrapper",
    .tp_basicsize = sizeof(chd_filewrapper_t),
    .tp_dealloc = (destructor)fw_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "wsgi.file_wrapper: iterate a file in blocks; sent with sendfile() when possible",
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)fw_next,
    .tp_methods = fw_methods,
    .tp_members = fw_members,
    .tp_new = fw_new,
};

int chd_filewrapper_init(void) { return PyType_Ready(&chd_filewrapper_type); }
