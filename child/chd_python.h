/* chd_python: the embedded interpreter and the application object.
 *
 * Initialises CPython in the child after exec (never before a fork), with
 * Python's own signal handlers off (the loop owns signals) and sys.path set
 * up as users expect: the working directory first, then --pythonpath
 * entries, then the spawning package (child/python/spawning: "python" next
 * to this binary, else where `make install` put it) and --virtualenv's
 * site-packages. Loads APP (`pkg.mod.callable` or `pkg.mod:callable`) and wraps it
 * in each middleware in order. All functions need the GIL except
 * chd_python_init, which takes it and returns holding it. */
#ifndef CHD_PYTHON_H
#define CHD_PYTHON_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "chd_config.h"

/* Starts the interpreter (after cfg->chdir has been applied). Returns 0 or
 * -1 with a message in err. On return the calling thread holds the GIL. */
int chd_python_init(const chd_config_t *cfg, char *err, size_t errlen);

/* Imports APP and applies the middleware. Returns a new reference, or NULL
 * with *error_text set to a malloc'd description (the Python traceback). */
PyObject *chd_python_load_app(const chd_config_t *cfg, char **error_text);

/* Formats the current Python exception (and clears it) as traceback text.
 * Returns a malloc'd string (never NULL). */
char *chd_python_format_exception(void);

/* Like chd_python_format_exception, but a spawning.FactoryError (a
 * factory's complaint about its input) is its message alone, one line. */
char *chd_python_format_error(void);

/* Logs the current exception with its traceback under `title`, and clears it. */
void chd_python_log_exception(const char *title);

/* The source files of every imported module (absolute paths, .py for
 * compiled ones), as a new list of str; NULL with an error set on failure. */
PyObject *chd_python_module_files(void);

/* Shuts the interpreter down; the calling thread must hold the GIL. */
void chd_python_finalize(void);

#endif
