/* chd_filewrapper: wsgi.file_wrapper (PEP 3333 "Optional Platform-Specific
 * File Handling").
 *
 * wsgi.file_wrapper(filelike, blksize=8192) returns an iterable that reads
 * filelike in blksize blocks and whose close() closes filelike. When the
 * app returns one and filelike is a regular file with a fileno(), the
 * response writer sends it with sendfile() instead of iterating
 * (chd_wsgi.c). All functions need the GIL. */
#ifndef CHD_FILEWRAPPER_H
#define CHD_FILEWRAPPER_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

typedef struct {
    PyObject_HEAD
    PyObject *filelike;
    Py_ssize_t blksize;
} chd_filewrapper_t;

extern PyTypeObject chd_filewrapper_type;

/* Readies the type. Returns 0 or -1 with a Python error set. */
int chd_filewrapper_init(void);

#endif
