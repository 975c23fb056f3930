/* libFuzzer target: the request parser (chd_request with its strict
 * checks), then, for every request it accepts, the environ building
 * (chd_environ_build, in embedded CPython) and the forwarding headers.
 * The same bytes go through the reference parser written from the RFCs'
 * ABNF (ref_parser.h): any disagreement between the two on a verdict or on
 * what a request says aborts (ref_diff.h).
 *
 * The first input byte picks how the rest is split into feeds (1 to 256
 * bytes), so split heads and bodies are exercised like real reads. A
 * request must never crash, leak or trip a sanitizer, whatever the bytes. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "chd_conn.h"
#include "chd_environ.h"
#include "chd_filewrapper.h"
#include "chd_forwarded.h"
#include "chd_input.h"
#include "chd_request.h"
#include "chd_wsgi.h"
#include "ref_diff.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static chd_config_t config;
static chd_stats_t stats;
static chd_conn_env_t env = {.stats = &stats}; /* what a connection sees */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    config.server_name = (char *)"127.0.0.1";
    config.server_port = 8080;
    config.threads = 1;
    config.processes = 1;
    config.limits = chd_default_limits;
    config.limits.body = 1 << 20;
    cmn_iplist_parse("*", &config.trusted_proxies, NULL, 0);
    env.cfg = &config;
    Py_InitializeEx(0);
    if (chd_input_init() < 0 || chd_filewrapper_init() < 0 || chd_environ_init(&config) < 0) {
        PyErr_Print();
        abort();
    }
    return 0;
}

/* Builds the environ of a complete request and reads every value once. */
static void build_environ(chd_conn_t *conn)
{
    PyObject *input = chd_input_new(conn);
    PyObject *environ = input ? chd_environ_build(conn, input) : NULL;
    if (!environ) {
        PyErr_Clear(); /* e.g. an over-long name: an error, never a crash */
    } else {
        PyObject *key, *value;
        Py_ssize_t pos = 0;
        while (PyDict_Next(environ, &pos, &key, &value))
            if (PyUnicode_Check(value) && PyUnicode_GET_LENGTH(value) < 0)
                abort();
    }
    Py_XDECREF(environ);
    if (input) {
        chd_input_detach(input);
        Py_DECREF(input);
    }
    chd_forwarded_t fwd;
    chd_forwarded_read(&conn->req, &fwd);
}

static void on_done(void *conn) { build_environ(conn); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t step = (size_t)data[0] + 1;
    chd_conn_t conn;
    memset(&conn, 0, sizeof conn);
    conn.env = &env;
    strcpy(conn.peer_addr, "127.0.0.1");
    conn.peer_port = 40000;
    conn.via_trusted_proxy = true;
    chd_request_init(&conn.req, &config.limits);
    ref_diff_t diff = {.compare_status = false};
    if (ref_diff_run(&conn.req, (const char *)data + 1, size - 1, step, on_done, &conn, &diff) < 0) {
        fprintf(stderr, "server and reference parser disagree: %s\n", diff.why);
        abort();
    }
    chd_request_free(&conn.req);
    return 0;
}
