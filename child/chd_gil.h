/* chd_gil: the GIL rule, in one place.
 *
 * Python code and C-API calls run with the GIL held. Everything that may
 * wait on a socket (sending a response, reading a body) sits between
 * CHD_IO_BEGIN and CHD_IO_END: in threaded mode these release the GIL so
 * other worker threads run Python meanwhile; in green mode there is one OS
 * thread and waiting yields to the gevent hub instead, which needs the GIL,
 * so they do nothing. The I/O thread of threaded mode never holds the GIL
 * (chd_server.c); worker threads hold it only inside chd_wsgi_handle. */
#ifndef CHD_GIL_H
#define CHD_GIL_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdbool.h>

/* True in threaded mode (set once at start-up, before any request). */
extern bool chd_gil_release_for_io;

#define CHD_IO_BEGIN                                                                       \
    do {                                                                                   \
        PyThreadState *chd_io_saved_ = chd_gil_release_for_io ? PyEval_SaveThread() : NULL;
#define CHD_IO_END                                                                         \
        if (chd_io_saved_)                                                                 \
            PyEval_RestoreThread(chd_io_saved_);                                           \
    } while (0)

#endif
