/* chd_environ: see chd_environ.h. */
#include "chd_environ.h"

#include "chd_filewrapper.h"
#include "chd_forwarded.h"
#include "chd_conn.h"
#include "chd_conn_tls.h"

#include <string.h>
#include <strings.h>

/* Interned keys and shared values; created once, never freed before exit. */
static struct {
    PyObject *request_method, *script_name, *path_info, *query_string, *content_type,
        *content_length, *server_name, *server_port, *server_protocol, *remote_addr,
        *remote_port, *wsgi_version, *wsgi_url_scheme, *wsgi_input, *wsgi_errors,
        *wsgi_multithread, *wsgi_multiprocess, *wsgi_run_once, *wsgi_file_wrapper,
        *wsgi_input_terminated, *http_host;
    PyObject *version_value, *scheme_value, *https_value, *server_name_value, *server_port_value,
        *empty_value, *http10_value, *http11_value;
    int multithread, multiprocess;
    int configured_port; /* the template's SERVER_PORT */
} env;

static PyObject *intern(const char *s) { return PyUnicode_InternFromString(s); }

static int init_common_keys(void);
static int init_template(void);

int chd_environ_init(const chd_config_t *cfg)
{
    env.request_method = intern("REQUEST_METHOD");
    env.script_name = intern("SCRIPT_NAME");
    env.path_info = intern("PATH_INFO");
    env.query_string = intern("QUERY_STRING");
    env.content_type = intern("CONTENT_TYPE");
    env.content_length = intern("CONTENT_LENGTH");
    env.server_name = intern("SERVER_NAME");
    env.server_port = intern("SERVER_PORT");
    env.server_protocol = intern("SERVER_PROTOCOL");
    env.remote_addr = intern("REMOTE_ADDR");
    env.remote_port = intern("REMOTE_PORT");
    env.wsgi_version = intern("wsgi.version");
    env.wsgi_url_scheme = intern("wsgi.url_scheme");
    env.wsgi_input = intern("wsgi.input");
    env.wsgi_errors = intern("wsgi.errors");
    env.wsgi_multithread = intern("wsgi.multithread");
    env.wsgi_multiprocess = intern("wsgi.multiprocess");
    env.wsgi_run_once = intern("wsgi.run_once");
    env.wsgi_file_wrapper = intern("wsgi.file_wrapper");
    env.wsgi_input_terminated = intern("wsgi.input_terminated");
    env.http_host = intern("HTTP_HOST");
    env.version_value = Py_BuildValue("(ii)", 1, 0);
    env.scheme_value = intern("http");
    env.https_value = intern("https");
    env.server_name_value = PyUnicode_DecodeLatin1(cfg->server_name, strlen(cfg->server_name), NULL);
    env.server_port_value = PyUnicode_FromFormat("%d", cfg->server_port);
    env.configured_port = cfg->server_port;
    env.empty_value = intern("");
    env.http10_value = intern("HTTP/1.0");
    env.http11_value = intern("HTTP/1.1");
    env.multithread = cfg->threads > 1;
    env.multiprocess = cfg->processes > 1;
    if (PyErr_Occurred() || init_common_keys() < 0 || init_template() < 0)
        return -1;
    return 0;
}

void chd_url_split(const char *url, size_t len, const char **path, size_t *path_len,
                   const char **query, size_t *query_len)
{
    const char *end = url + len;
    const char *p = url;
    const char *hash = memchr(url, '#', len);
    if (hash)
        end = hash;
    if (p < end && *p != '/' && *p != '*') {
        /* absolute-form: skip "scheme://authority" */
        const char *sep = memchr(p, ':', (size_t)(end - p));
        if (sep && sep + 2 < end && sep[1] == '/' && sep[2] == '/') {
            const char *slash = memchr(sep + 3, '/', (size_t)(end - sep - 3));
            const char *qm = memchr(sep + 3, '?', (size_t)(end - sep - 3));
            p = slash && (!qm || slash < qm) ? slash : (qm ? qm : end);
        }
    }
    const char *q = memchr(p, '?', (size_t)(end - p));
    *path = p;
    *path_len = (size_t)((q ? q : end) - p);
    *query = q ? q + 1 : end;
    *query_len = q ? (size_t)(end - q - 1) : 0;
    if (*path_len == 0 && p != url) {
        *path = "/";
        *path_len = 1;
    }
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
        return (c | 0x20) - 'a' + 10;
    return -1;
}

size_t chd_url_decode(const char *in, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int hi, lo;
        if (in[i] == '%' && i + 2 < len &&
            (hi = hex_value(in[i + 1])) >= 0 && (lo = hex_value(in[i + 2])) >= 0) {
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[o++] = in[i];
        }
    }
    return o;
}

/* The method as an interned str, made once per method (GIL held). Borrowed. */
static PyObject *method_value(unsigned method, const char *name)
{
    static PyObject *values[64];
    if (method >= 64)
        return NULL;
    if (!values[method])
        values[method] = PyUnicode_InternFromString(name);
    if (!values[method])
        PyErr_Clear(); /* the caller makes one the slow way */
    return values[method];
}

/* A port as a str, without PyUnicode_FromFormat's parsing. */
static PyObject *make_port_string(int port)
{
    char digits[8];
    int n = 0;
    do {
        digits[sizeof digits - 1 - n++] = (char)('0' + port % 10);
        port /= 10;
    } while (port > 0 && n < (int)sizeof digits);
    return PyUnicode_DecodeLatin1(digits + sizeof digits - n, n, NULL);
}

/* A port as a str (a new reference), from a small cache: REMOTE_PORT is
 * the same for every request on a keep-alive connection, and a client's
 * ports cycle through a range. GIL. */
static PyObject *port_string(int port)
{
    static struct {
        int port;
        PyObject *value;
    } cache[256];
    unsigned slot = (unsigned)port % 256;
    if (cache[slot].value && cache[slot].port == port)
        return Py_NewRef(cache[slot].value);
    PyObject *value = make_port_string(port);
    if (value) {
        Py_XSETREF(cache[slot].value, Py_NewRef(value));
        cache[slot].port = port;
    }
    return value;
}

/* Sets d[key] = value and drops the reference to value. */
static int set_new(PyObject *d, PyObject *key, PyObject *value)
{
    if (!value)
        return -1;
    int rc = PyDict_SetItem(d, key, value);
    Py_DECREF(value);
    return rc;
}

static PyObject *latin1(const char *s, size_t len)
{
    return PyUnicode_DecodeLatin1(s, (Py_ssize_t)len, NULL);
}

/* The last str made for one field (Host, User-Agent, REMOTE_ADDR, ...).
 * Successive requests mostly carry the same bytes there (a keep-alive
 * connection, a proxy in front, one browser), and comparing them with the
 * last value costs a memcmp where making a str costs an allocation and a
 * decode. Strings are immutable, so handing the same one to many environs
 * is safe; all use is under the GIL. */
typedef struct {
    PyObject *value;
} value_memo_t;

/* A new reference to a str of these bytes, the memo's if it matches. */
static PyObject *memo_latin1(value_memo_t *memo, const char *s, size_t len)
{
    PyObject *v = memo->value;
    /* latin1() always makes a one-byte-per-character str of exactly these
     * bytes, so its data compares with them directly. */
    if (v && (size_t)PyUnicode_GET_LENGTH(v) == len && memcmp(PyUnicode_1BYTE_DATA(v), s, len) == 0)
        return Py_NewRef(v);
    PyObject *fresh = latin1(s, len);
    if (fresh)
        Py_XSETREF(memo->value, Py_NewRef(fresh));
    return fresh;
}

/* "Accept-Encoding" -> "HTTP_ACCEPT_ENCODING"; Content-Type and
 * Content-Length lose the prefix. Returns NULL (no error) for names with
 * '_', which could pose as another header once mapped. */
/* Headers nearly every request carries get their key made once. */
static const char *const common_headers[] = {
    "Host", "User-Agent", "Accept", "Accept-Encoding", "Accept-Language", "Connection",
    "Cookie", "Referer", "Cache-Control", "Origin", "Authorization", "If-None-Match",
    "If-Modified-Since", "X-Forwarded-For", "X-Forwarded-Proto", "X-Requested-With",
};
#define NCOMMON (sizeof common_headers / sizeof common_headers[0])
static PyObject *common_keys[NCOMMON];
static uint8_t common_lengths[NCOMMON];
static value_memo_t common_values[NCOMMON];

static PyObject *make_header_key(const char *name, size_t len);

static int init_common_keys(void)
{
    for (size_t i = 0; i < NCOMMON; i++) {
        common_lengths[i] = (uint8_t)strlen(common_headers[i]);
        common_keys[i] = make_header_key(common_headers[i], common_lengths[i]);
        if (!common_keys[i])
            return -1;
        PyUnicode_InternInPlace(&common_keys[i]);
    }
    return 0;
}

/* The environ key for a header name (a new reference), and in *common the
 * index of a common header (else -1). */
static PyObject *header_key(const char *name, size_t len, int *common)
{
    *common = -1;
    if (memchr(name, '_', len))
        return NULL;
    if (len == 12 && strncasecmp(name, "Content-Type", 12) == 0)
        return Py_NewRef(env.content_type);
    if (len == 14 && strncasecmp(name, "Content-Length", 14) == 0)
        return Py_NewRef(env.content_length);
    for (size_t i = 0; i < NCOMMON; i++)
        if (common_lengths[i] == len && strncasecmp(name, common_headers[i], len) == 0) {
            *common = (int)i;
            return Py_NewRef(common_keys[i]);
        }
    return make_header_key(name, len);
}

/* "Accept-Encoding" -> "HTTP_ACCEPT_ENCODING" (a new str). */
static PyObject *make_header_key(const char *name, size_t len)
{
    char buf[5 + 256];
    char *key = len <= 256 ? buf : PyMem_Malloc(5 + len);
    if (!key)
        return PyErr_NoMemory();
    memcpy(key, "HTTP_", 5);
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        key[5 + i] = c == '-' ? '_' : (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
    }
    PyObject *k = latin1(key, 5 + len);
    if (key != buf)
        PyMem_Free(key);
    return k;
}

/* Adds one header, joining a repeated one with ", " (RFC 9110 5.3). */
static int add_header(PyObject *d, const char *name, size_t nlen, const char *value, size_t vlen)
{
    int common;
    PyObject *key = header_key(name, nlen, &common);
    if (!key)
        return PyErr_Occurred() ? -1 : 0;
    PyObject *val = common >= 0 ? memo_latin1(&common_values[common], value, vlen)
                                : latin1(value, vlen);
    /* One lookup for the usual case: the header is not there yet. Whether
     * it was is told by the size, not by the value returned: a repeated
     * field with the same bytes gets the same memoised str. */
    Py_ssize_t size_before = PyDict_GET_SIZE(d);
    PyObject *present = val ? PyDict_SetDefault(d, key, val) : NULL; /* borrowed */
    int rc = present ? 0 : -1;
    if (present && PyDict_GET_SIZE(d) == size_before) {
        PyObject *joined = PyUnicode_FromFormat("%U, %U", present, val);
        rc = joined ? PyDict_SetItem(d, key, joined) : -1;
        Py_XDECREF(joined);
    }
    Py_XDECREF(val);
    Py_DECREF(key);
    return rc;
}

static int add_target(PyObject *d, const chd_request_t *req)
{
    const char *path, *query;
    size_t plen, qlen;
    chd_url_split(chd_request_url(req), req->url_len, &path, &plen, &query, &qlen);
    char small[1024];
    char *decoded = plen <= sizeof small ? small : PyMem_Malloc(plen);
    if (!decoded) {
        PyErr_NoMemory();
        return -1;
    }
    static value_memo_t last_path; /* "/" and an API's few routes recur */
    size_t dlen = chd_url_decode(path, plen, decoded);
    int rc = set_new(d, env.path_info, memo_latin1(&last_path, decoded, dlen));
    if (decoded != small)
        PyMem_Free(decoded);
    if (rc == 0)
        rc = qlen == 0 ? PyDict_SetItem(d, env.query_string, env.empty_value)
                       : set_new(d, env.query_string, latin1(query, qlen));
    return rc;
}

/* RFC 9112 3.2.2: an absolute-form target's authority replaces Host. The
 * app sees it as HTTP_HOST, its host as SERVER_NAME and its port (else
 * the scheme's default: 443 for https, 80 otherwise) as SERVER_PORT. */
static int add_target_authority(PyObject *d, const chd_request_t *req)
{
    const chd_target_t *t = &req->target;
    const char *url = chd_request_url(req);
    int port = t->port;
    if (port < 0)
        port = t->scheme_len == 5 && strncasecmp(url, "https", 5) == 0 ? 443 : 80;
    if (set_new(d, env.http_host, latin1(url + t->host_off, t->authority_len)) < 0 ||
        set_new(d, env.server_name, latin1(url + t->host_off, t->host_len)) < 0)
        return -1;
    return set_new(d, env.server_port, port_string(port));
}

/* Every environ starts as a copy of this dict: the keys every request has,
 * with their constant values or None where the request fills them in.
 * Copying a dict clones its table in one go, so building an environ costs
 * no insertions and no resizing for these keys; the table is sized so that
 * a typical set of request headers fits without a resize too. */
static PyObject *environ_template;
static PyObject *sys_dict, *stderr_name; /* for sys.stderr, looked up per request */

#define TEMPLATE_MIN_ENTRIES 32

static int init_template(void)
{
    struct {
        PyObject *key, *value;
    } items[] = {
        {env.request_method, Py_None},
        {env.server_protocol, Py_None},
        {env.path_info, Py_None},
        {env.query_string, Py_None},
        {env.remote_addr, Py_None},
        {env.remote_port, Py_None},
        {env.wsgi_input, Py_None},
        {env.wsgi_errors, Py_None},
        {env.script_name, env.empty_value},
        {env.server_name, env.server_name_value},
        {env.server_port, env.server_port_value},
        {env.wsgi_version, env.version_value},
        {env.wsgi_url_scheme, env.scheme_value},
        {env.wsgi_multithread, env.multithread ? Py_True : Py_False},
        {env.wsgi_multiprocess, env.multiprocess ? Py_True : Py_False},
        {env.wsgi_run_once, Py_False},
        {env.wsgi_file_wrapper, (PyObject *)&chd_filewrapper_type},
        {env.wsgi_input_terminated, Py_True},
    };
    environ_template = _PyDict_NewPresized(TEMPLATE_MIN_ENTRIES);
    if (!environ_template)
        return -1;
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++)
        if (PyDict_SetItem(environ_template, items[i].key, items[i].value) < 0)
            return -1;
    PyObject *sys = PyImport_ImportModule("sys");
    sys_dict = sys ? Py_NewRef(PyModule_GetDict(sys)) : NULL;
    Py_XDECREF(sys);
    stderr_name = intern("stderr");
    return sys_dict && stderr_name ? 0 : -1;
}

/* sys.stderr as it is now (the app may have replaced it). Borrowed. */
static PyObject *current_stderr(void)
{
    PyObject *errors = PyDict_GetItemWithError(sys_dict, stderr_name);
    return errors ? errors : Py_None;
}

/* Sets key (an interned name made on first use) to the string value. */
static int set_str(PyObject *d, PyObject **key, const char *name, const char *value)
{
    if (!*key && !(*key = intern(name)))
        return -1;
    return set_new(d, *key, latin1(value, strlen(value)));
}

/* A TLS connection's facts, under the names Apache's mod_ssl and nginx
 * give them (what apps already look for). Only the scheme once --timeout
 * answered the request meanwhile (its TLS state is the watchdog's). */
static int add_tls(PyObject *d, const chd_conn_t *conn)
{
    static PyObject *https, *protocol, *cipher, *sni, *client_dn, *client_verify;
    chd_conn_tls_facts_t f;
    bool known = chd_conn_tls_facts((chd_conn_t *)conn, &f); /* a lock: the const is cast off */
    int rc = PyDict_SetItem(d, env.wsgi_url_scheme, env.https_value);
    if (rc == 0)
        rc = set_str(d, &https, "HTTPS", "on");
    if (!known)
        return rc;
    if (rc == 0)
        rc = set_str(d, &protocol, "SSL_PROTOCOL", f.version);
    if (rc == 0)
        rc = set_str(d, &cipher, "SSL_CIPHER", f.cipher);
    if (rc == 0 && f.server_name[0])
        rc = set_str(d, &sni, "SSL_TLS_SNI", f.server_name);
    if (rc == 0 && f.client_cert)
        rc = set_str(d, &client_dn, "SSL_CLIENT_S_DN", f.client_subject);
    if (rc == 0) /* a certificate that did not verify failed the handshake */
        rc = set_str(d, &client_verify, "SSL_CLIENT_VERIFY", f.client_cert ? "SUCCESS" : "NONE");
    return rc;
}

PyObject *chd_environ_build(const chd_conn_t *conn, PyObject *input)
{
    const chd_request_t *req = &conn->req;
    PyObject *d = PyDict_Copy(environ_template);
    if (!d)
        return NULL;
    const char *method = chd_request_method(req);
    bool http10 = req->http_major == 1 && req->http_minor == 0;
    PyObject *method_str = method_value(req->method, method);
    int rc = method_str ? PyDict_SetItem(d, env.request_method, method_str)
                        : set_new(d, env.request_method, latin1(method, strlen(method)));
    if (rc == 0)
        rc = PyDict_SetItem(d, env.server_protocol, http10 ? env.http10_value : env.http11_value);
    if (rc == 0)
        rc = add_target(d, req);
    if (rc == 0 && conn->local_port && conn->local_port != env.configured_port)
        rc = set_new(d, env.server_port, port_string(conn->local_port)); /* another address's */
    chd_forwarded_t fwd = {"", ""};
    if (conn->via_trusted_proxy)
        chd_forwarded_read(req, &fwd);
    const char *remote = fwd.addr[0] ? fwd.addr : conn->peer_addr;
    static value_memo_t last_remote; /* one proxy in front: always the same */
    if (rc == 0)
        rc = set_new(d, env.remote_addr, memo_latin1(&last_remote, remote, strlen(remote)));
    if (rc == 0)
        rc = set_new(d, env.remote_port, port_string(conn->peer_port));
    if (rc == 0)
        rc = PyDict_SetItem(d, env.wsgi_input, input);
    if (rc == 0)
        rc = PyDict_SetItem(d, env.wsgi_errors, current_stderr());
    if (rc == 0 && strcmp(fwd.scheme, "https") == 0)
        rc = PyDict_SetItem(d, env.wsgi_url_scheme, env.https_value);
    if (rc == 0 && conn->tls)
        rc = add_tls(d, conn);
    for (int i = 0; rc == 0 && i < req->nheaders; i++) {
        const chd_header_t *h = &req->headers[i];
        rc = add_header(d, chd_header_name(req, h), h->name_len, chd_header_value(req, h),
                        h->value_len);
    }
    if (rc == 0 && req->target.form == CHD_TARGET_ABSOLUTE)
        rc = add_target_authority(d, req); /* after the fields: it replaces Host's */
    if (rc < 0)
        Py_CLEAR(d);
    return d;
}
