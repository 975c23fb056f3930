/* chd_factory: see chd_factory.h. */
#include "chd_factory.h"

#include "chd_python.h"
#include "cmn_ctlmsg.h"

#include <stdlib.h>
#include <string.h>

/* Calls spawning._child.<fn>(cfg->factory, json of the options dict).
 * Returns its result (new reference) or NULL with a Python error set. */
static PyObject *call_helper(const char *fn, const chd_config_t *cfg)
{
    char *options = json_dumps(cfg->factory_options, JSON_COMPACT);
    if (!options)
        return PyErr_NoMemory();
    PyObject *mod = PyImport_ImportModule("spawning._child");
    PyObject *rv = mod ? PyObject_CallMethod(mod, fn, "ss", cfg->factory, options) : NULL;
    Py_XDECREF(mod);
    free(options);
    return rv;
}

PyObject *chd_factory_load_app(const chd_config_t *cfg, PyObject **watch, char **error_text)
{
    PyObject *app = NULL, *files = NULL;
    PyObject *pair = call_helper("load_app", cfg);
    if (pair && (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2 ||
                 !PyList_Check(PyTuple_GET_ITEM(pair, 1))))
        PyErr_SetString(PyExc_TypeError, "spawning._child.load_app: not an (app, list) pair");
    else if (pair) {
        app = Py_NewRef(PyTuple_GET_ITEM(pair, 0));
        files = Py_NewRef(PyTuple_GET_ITEM(pair, 1));
    }
    Py_XDECREF(pair);
    if (!app) {
        *error_text = chd_python_format_error();
        return NULL;
    }
    *watch = files;
    return app;
}

/* The "fatal" answer for the pending Python error. */
static json_t *fatal_reply(void)
{
    char *text = chd_python_format_error();
    json_t *msg = json_pack("{s:s, s:s}", "type", CMN_MSG_FATAL, "error", text);
    free(text);
    return msg;
}

json_t *chd_factory_probe(const chd_config_t *cfg)
{
    PyObject *result = call_helper("probe", cfg);
    const char *text = result ? PyUnicode_AsUTF8(result) : NULL;
    if (!text) {
        Py_XDECREF(result);
        return fatal_reply();
    }
    json_error_t jerr;
    json_t *reply = json_loads(text, 0, &jerr);
    Py_DECREF(result);
    if (!json_is_object(reply)) {
        json_decref(reply);
        return json_pack("{s:s, s:s}", "type", CMN_MSG_FATAL, "error",
                         "spawning._child.probe: not a JSON object");
    }
    json_object_set_new(reply, "type", json_string(CMN_MSG_OPTIONS));
    return reply;
}
