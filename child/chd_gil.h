/* chd_gil: the GIL rule, in one place.
 *
 * Python code and C-API calls run with the GIL held. Everything that may
 * wait on a socket (sending a response, reading a body) sits between
 * CHD_IO_BEGIN and CHD_IO_END (one exception: a write of at most 16 KiB
 * that the socket takes at once, which never waits, is made with the GIL
 * held: chd_wsgi.c's send_iov): in threaded mode these release the GIL so
 * other worker threads run Python meanwhile; in green mode there is one OS
 * thread and waiting yields to the gevent hub instead, which needs the GIL,
 * so they do nothing. In threaded mode a thread holds the GIL only while it
 * runs a request: a worker inside chd_wsgi_handle, the main thread inside
 * chd_wsgi_handle_inline; the event loop (parsing, accepting, timers, the
 * control channel) runs without it, on whichever thread holds the loop
 * (chd_conn_loop.h), and the main thread lets go of the loop before it
 * takes the GIL, so the two are never waited for in the other order. */
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
