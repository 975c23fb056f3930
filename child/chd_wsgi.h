/* chd_wsgi: running one request through the WSGI application (PEP 3333).
 *
 * chd_wsgi_handle() is the pool's job: it takes the GIL, builds the
 * environ, calls the app with start_response, sends the head and body
 * (Content-Length, chunked, sendfile for wsgi.file_wrapper), always calls
 * close() on the returned iterable, answers 500 (and logs the traceback)
 * when the app fails before the head is out (or the status a failed body
 * read owes: 400, 408, 413), fails the connection (chd_conn_fail,
 * APP_ERROR) when it fails after, and finishes the response with its
 * keep-alive decision (chd_conn_finish_response): the connection is left
 * ready for the next request (the unread body discarded) or to close.
 * Socket waits follow chd_gil.h. */
#ifndef CHD_WSGI_H
#define CHD_WSGI_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "chd_config.h"
#include "chd_conn.h"

/* Readies the types and the environ constants; keeps a reference to app.
 * Call with the GIL, before any worker starts. Returns 0 or -1 with a
 * Python error set. */
int chd_wsgi_init(PyObject *app, const chd_config_t *cfg);

/* Worker thread, GIL not held: serves the current request of conn. */
void chd_wsgi_handle(chd_conn_t *conn, void *ctx);

/* The same on the main thread (a request it runs itself, chd_conn_loop.h):
 * takes the GIL with the given thread state (the main thread's) and lets
 * go after. */
void chd_wsgi_handle_inline(chd_conn_t *conn, void *tstate);

/* The same with the GIL held (green mode calls it from a greenlet). */
void chd_wsgi_serve(chd_conn_t *conn);

/* Worker thread start/stop: create and destroy its Python thread state. */
void chd_wsgi_thread_start(void *ctx);
void chd_wsgi_thread_stop(void *ctx);

#endif
