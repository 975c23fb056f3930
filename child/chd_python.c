/* chd_python: see chd_python.h. */
#include "chd_python.h"

#include "cmn_log.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Both come from the Makefile ($(PYTHON) and where `make install` puts the
 * spawning package); these are the defaults of a plain build. */
#ifndef CHD_PYTHON_EXECUTABLE
#define CHD_PYTHON_EXECUTABLE "/usr/bin/python3"
#endif
#ifndef CHD_PYTHON_PACKAGE_DIR
#define CHD_PYTHON_PACKAGE_DIR "/usr/local/lib/python3/dist-packages"
#endif

/* Puts dir at position `index` of sys.path. */
static int sys_path_insert(Py_ssize_t index, const char *dir)
{
    PyObject *path = PySys_GetObject("path"); /* borrowed */
    PyObject *entry = PyUnicode_DecodeFSDefault(dir);
    int rc = (path && entry) ? PyList_Insert(path, index, entry) : -1;
    Py_XDECREF(entry);
    return rc;
}

/* True if dir holds the spawning package. */
static int has_package(const char *dir)
{
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/spawning/__init__.py", dir);
    return access(probe, R_OK) == 0;
}

/* The directory holding the spawning package: "python" next to this binary
 * (a build tree), else where `make install` put it; "" if neither has it. */
static void package_dir(char *buf, size_t len)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        snprintf(buf, len, "%s/python", dirname(self));
        if (has_package(buf))
            return;
    }
    snprintf(buf, len, "%s", has_package(CHD_PYTHON_PACKAGE_DIR) ? CHD_PYTHON_PACKAGE_DIR : "");
}

/* --virtualenv: its site-packages go in at `index` (spawning._child does
 * it, .pth files included). Returns 0 or -1 with a Python error set. */
static int add_virtualenv(const char *dir, Py_ssize_t index)
{
    PyObject *mod = PyImport_ImportModule("spawning._child");
    PyObject *rv = mod ? PyObject_CallMethod(mod, "add_virtualenv", "sn", dir, index) : NULL;
    Py_XDECREF(mod);
    Py_XDECREF(rv);
    return rv ? 0 : -1;
}

/* sys.path: the working directory, --pythonpath, the spawning package,
 * --virtualenv's site-packages, then the interpreter's own. */
static int setup_sys_path(const chd_config_t *cfg)
{
    char cwd[4096], pkg[4096];
    if (!getcwd(cwd, sizeof cwd))
        return -1;
    if (sys_path_insert(0, cwd) < 0)
        return -1;
    Py_ssize_t next = 1;
    for (int i = 0; i < cfg->npythonpath; i++)
        if (sys_path_insert(next++, cfg->pythonpath[i]) < 0)
            return -1;
    package_dir(pkg, sizeof pkg);
    if (*pkg && sys_path_insert(next++, pkg) < 0)
        return -1;
    if (cfg->virtualenv && add_virtualenv(cfg->virtualenv, next) < 0)
        return -1;
    return 0;
}

int chd_python_init(const chd_config_t *cfg, char *err, size_t errlen)
{
    PyConfig config;
    PyConfig_InitPythonConfig(&config);
    config.install_signal_handlers = 0;
    config.parse_argv = 0;
    /* The interpreter finds its prefix (and Debian's dist-packages) from
     * the executable it believes it is; the first python3 on PATH may be
     * another build, so name Debian's explicitly. */
    PyStatus st = PyConfig_SetBytesString(&config, &config.program_name, CHD_PYTHON_EXECUTABLE);
    char *argv[] = {(char *)"spawning", NULL};
    if (!PyStatus_Exception(st))
        st = PyConfig_SetBytesArgv(&config, 1, argv);
    if (!PyStatus_Exception(st))
        st = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(st)) {
        snprintf(err, errlen, "cannot initialise Python: %s", st.err_msg ? st.err_msg : "?");
        return -1;
    }
    if (setup_sys_path(cfg) < 0) {
        char *text = chd_python_format_error();
        snprintf(err, errlen, "%s", text);
        free(text);
        return -1;
    }
    return 0;
}

char *chd_python_format_exception(void)
{
    PyObject *type, *exc, *tb;
    PyErr_Fetch(&type, &exc, &tb);
    if (!type)
        return strdup("(no exception)");
    PyErr_NormalizeException(&type, &exc, &tb);
    if (tb && exc)
        PyException_SetTraceback(exc, tb);
    char *out = NULL;
    PyObject *tb_mod = PyImport_ImportModule("traceback");
    PyObject *lines = tb_mod ? PyObject_CallMethod(tb_mod, "format_exception", "OOO", type,
                                                   exc ? exc : Py_None, tb ? tb : Py_None)
                             : NULL;
    PyObject *empty = PyUnicode_FromString("");
    PyObject *text = (lines && empty) ? PyUnicode_Join(empty, lines) : NULL;
    const char *utf8 = text ? PyUnicode_AsUTF8(text) : NULL;
    if (utf8) {
        out = strdup(utf8);
    } else {
        PyErr_Clear();
        PyObject *s = PyObject_Str(exc ? exc : type);
        const char *msg = s ? PyUnicode_AsUTF8(s) : NULL;
        PyErr_Clear();
        out = strdup(msg ? msg : "(exception could not be formatted)");
        Py_XDECREF(s);
    }
    Py_XDECREF(text);
    Py_XDECREF(empty);
    Py_XDECREF(lines);
    Py_XDECREF(tb_mod);
    Py_XDECREF(type);
    Py_XDECREF(exc);
    Py_XDECREF(tb);
    return out ? out : strdup("?");
}

/* spawning.FactoryError (new reference), or NULL with no error set. */
static PyObject *factory_error_class(void)
{
    PyObject *mod = PyImport_ImportModule("spawning");
    PyObject *cls = mod ? PyObject_GetAttrString(mod, "FactoryError") : NULL;
    Py_XDECREF(mod);
    if (!cls)
        PyErr_Clear();
    return cls;
}

char *chd_python_format_error(void)
{
    PyObject *type, *exc, *tb;
    PyErr_Fetch(&type, &exc, &tb);
    if (!type)
        return strdup("(no exception)");
    PyErr_NormalizeException(&type, &exc, &tb);
    PyObject *cls = factory_error_class();
    int one_line = cls && PyErr_GivenExceptionMatches(type, cls);
    Py_XDECREF(cls);
    if (!one_line) {
        PyErr_Restore(type, exc, tb);
        return chd_python_format_exception();
    }
    PyObject *s = exc ? PyObject_Str(exc) : NULL;
    const char *msg = s ? PyUnicode_AsUTF8(s) : NULL;
    char *out = strdup(msg ? msg : "(error could not be formatted)");
    PyErr_Clear();
    Py_XDECREF(s);
    Py_XDECREF(type);
    Py_XDECREF(exc);
    Py_XDECREF(tb);
    return out ? out : strdup("?");
}

void chd_python_log_exception(const char *title)
{
    char *text = chd_python_format_exception();
    cmn_log_block(CMN_LOG_ERROR, title, text, strlen(text));
    free(text);
}

/* Resolves "pkg.mod:attr.sub" or "pkg.mod.attr" to an object (new reference). */
static PyObject *resolve_name(const char *spec)
{
    const char *colon = strchr(spec, ':');
    const char *split = colon ? colon : strrchr(spec, '.');
    if (!split || split == spec || !split[1]) {
        PyErr_Format(PyExc_ValueError,
                     "'%s' is not of the form pkg.module.callable or pkg.module:callable", spec);
        return NULL;
    }
    char *module_name = strndup(spec, (size_t)(split - spec));
    PyObject *obj = module_name ? PyImport_ImportModule(module_name) : PyErr_NoMemory();
    free(module_name);
    const char *attr = split + 1;
    while (obj && *attr) {
        const char *dot = strchr(attr, '.');
        size_t len = dot ? (size_t)(dot - attr) : strlen(attr);
        PyObject *name = PyUnicode_FromStringAndSize(attr, (Py_ssize_t)len);
        PyObject *next = name ? PyObject_GetAttr(obj, name) : NULL;
        Py_XDECREF(name);
        Py_DECREF(obj);
        obj = next;
        attr += len + (dot ? 1 : 0);
    }
    if (obj && !PyCallable_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "'%s' is not callable", spec);
        Py_CLEAR(obj);
    }
    return obj;
}

PyObject *chd_python_load_app(const chd_config_t *cfg, char **error_text)
{
    PyObject *app = resolve_name(cfg->app);
    for (int i = 0; app && i < cfg->nmiddleware; i++) {
        PyObject *mw = resolve_name(cfg->middleware[i]);
        PyObject *wrapped = mw ? PyObject_CallOneArg(mw, app) : NULL;
        Py_XDECREF(mw);
        Py_DECREF(app);
        app = wrapped;
        if (app && !PyCallable_Check(app)) {
            PyErr_Format(PyExc_TypeError, "middleware '%s' did not return a callable",
                         cfg->middleware[i]);
            Py_CLEAR(app);
        }
    }
    if (!app)
        *error_text = chd_python_format_exception();
    return app;
}

PyObject *chd_python_module_files(void)
{
    static const char code[] =
        "def _spawning_module_files():\n"
        "    import os, sys\n"
        "    files = set()\n"
        "    for m in list(sys.modules.values()):\n"
        "        f = getattr(m, '__file__', None)\n"
        "        if isinstance(f, str) and f.endswith(('.py', '.pyc')):\n"
        "            if f.endswith('.pyc'):\n"
        "                f = f[:-1]\n"
        "            files.add(os.path.abspath(f))\n"
        "    return sorted(files)\n";
    PyObject *globals = PyDict_New();
    PyObject *rv = globals ? PyRun_String(code, Py_file_input, globals, globals) : NULL;
    PyObject *fn = rv ? PyDict_GetItemString(globals, "_spawning_module_files") : NULL;
    PyObject *files = fn ? PyObject_CallNoArgs(fn) : NULL;
    Py_XDECREF(rv);
    Py_XDECREF(globals);
    return files;
}

void chd_python_finalize(void)
{
    if (Py_FinalizeEx() < 0)
        cmn_warning("errors while shutting Python down");
}
