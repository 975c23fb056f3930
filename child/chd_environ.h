/* chd_environ: the PEP 3333 environ dict for one request.
 *
 * Keys that every request carries are interned once at start-up
 * (chd_environ_init), and every environ starts as a copy of a template
 * dict holding them, so building one allocates only the values and the
 * copy.
 * The URL helpers are plain C (no GIL) and unit-tested on their own. */
#ifndef CHD_ENVIRON_H
#define CHD_ENVIRON_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "chd_config.h"
#include "chd_conn.h"

#include <stddef.h>

/* Creates the interned keys and constant values. GIL. Returns 0 or -1 with
 * a Python error set. */
int chd_environ_init(const chd_config_t *cfg);

/* Builds a new environ for the request on conn, with `input` as wsgi.input
 * (borrowed; the dict takes its own reference). GIL. Returns a new
 * reference or NULL with a Python error set. */
PyObject *chd_environ_build(const chd_conn_t *conn, PyObject *input);

/* Splits a request target into path and query: origin-form "/p?q",
 * absolute-form "http://host/p?q" (the path is what follows the
 * authority, "/" if none), asterisk-form "*". A fragment is dropped. */
void chd_url_split(const char *url, size_t len, const char **path, size_t *path_len,
                   const char **query, size_t *query_len);

/* Percent-decodes len bytes of in into out (which may be in; out needs len
 * bytes). Malformed escapes are copied as they are. Returns the length. */
size_t chd_url_decode(const char *in, size_t len, char *out);

#endif
