/* chd_debug: see chd_debug.h. */
#include "chd_debug.h"

#include "chd_python.h"

int chd_debug_start(const chd_config_t *cfg, char **error_text)
{
    if (!cfg->coverage)
        return 0;
    PyObject *mod = PyImport_ImportModule("spawning.debug");
    PyObject *rv = mod ? PyObject_CallMethod(mod, "start_coverage", NULL) : NULL;
    Py_XDECREF(mod);
    if (!rv) {
        *error_text = chd_python_format_error();
        return -1;
    }
    Py_DECREF(rv);
    return 0;
}

PyObject *chd_debug_wrap(PyObject *app, const chd_config_t *cfg, char **error_text)
{
    if (!cfg->coverage && !cfg->sysinfo)
        return app;
    PyObject *mod = PyImport_ImportModule("spawning.debug");
    PyObject *wrapped = mod ? PyObject_CallMethod(mod, "wrap", "OOO", app,
                                                  cfg->coverage ? Py_True : Py_False,
                                                  cfg->sysinfo ? Py_True : Py_False)
                            : NULL;
    Py_XDECREF(mod);
    Py_DECREF(app);
    if (!wrapped)
        *error_text = chd_python_format_error();
    return wrapped;
}
