/* chd_input: wsgi.input, the request body as a file-like object.
 *
 * read(size=-1), readline(size=-1), readlines(hint=-1) and iteration, over
 * the de-chunked body: bytes the I/O thread pre-read first, then more from
 * the socket on demand (the GIL released while waiting; "100 Continue" sent
 * on the first read when the client asked for it). It never reads past the
 * end of the body, so the next request on the connection is untouched.
 * Once the request is over the object is detached and reads return b"".
 * A read that fails raises OSError (the connection has failed then:
 * chd_conn_read_body); after a failure that owes the client an answer (a
 * timeout, a bad body) later reads return b"". All functions need the GIL. */
#ifndef CHD_INPUT_H
#define CHD_INPUT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "chd_conn.h"

/* Readies the type. Returns 0 or -1 with a Python error set. */
int chd_input_init(void);

/* A new input reading the body of conn's current request. */
PyObject *chd_input_new(chd_conn_t *conn);

/* Cuts the input off its connection (the request is over). */
void chd_input_detach(PyObject *input);

#endif
