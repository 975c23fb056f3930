/* chd_accesslog: see chd_accesslog.h. */
#include "chd_accesslog.h"

#include "chd_forwarded.h"
#include "chd_logfields.h"
#include "chd_logtext.h"
#include "cmn_log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------ formatting */

typedef chd_logtext_t out_t;

/* The request fields %(f)s and %(a)s show. The formatter asks for them by
 * these very strings (see request_header). */
static const char referer_name[] = "Referer", agent_name[] = "User-Agent";

/* Short names for the pieces (chd_logtext.h). */
static inline void put(out_t *o, const char *s, size_t n) { chd_logtext_put(o, s, n); }
static inline void put_escaped(out_t *o, const char *s, size_t n)
{
    chd_logtext_put_escaped(o, s, n);
}
static inline void put_uint(out_t *o, uint64_t v) { chd_logtext_put_uint(o, v); }

/* A value, or "-" when absent. */
static void put_value(out_t *o, const char *s, size_t n)
{
    if (s)
        put_escaped(o, s, n);
    else
        put(o, "-", 1);
}

static void put_protocol(out_t *o, const chd_accesslog_entry_t *e)
{
    char v[] = "HTTP/1.1";
    v[5] = (char)('0' + e->http_major % 10);
    v[7] = (char)('0' + e->http_minor % 10);
    put(o, v, 8);
}

static void put_request_line(out_t *o, const chd_accesslog_entry_t *e)
{
    if (!e->method) {
        put(o, "-", 1);
        return;
    }
    put_escaped(o, e->method, strlen(e->method));
    put(o, " ", 1);
    put_escaped(o, e->target, e->target_len);
    put(o, " ", 1);
    put_protocol(o, e);
}

static size_t query_start(const chd_accesslog_entry_t *e)
{
    const char *q = e->target ? memchr(e->target, '?', e->target_len) : NULL;
    return q ? (size_t)(q - e->target) : e->target_len;
}

static void put_req_header(out_t *o, const chd_accesslog_entry_t *e, const char *name)
{
    size_t len = 0;
    const char *v = e->req_header ? e->req_header(e->req_ctx, name, &len) : NULL;
    put_value(o, v, len);
}

static bool name_matches(const char *s, size_t n, const char *name, size_t nlen)
{
    if (n != nlen)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((s[i] | 0x20) != (name[i] | 0x20)) /* token bytes: folding bit 5 is enough */
            return false;
    return true;
}

/* A field's value in a response head, or NULL. */
static const char *find_resp_header(const chd_accesslog_entry_t *e, const char *name, size_t *vlen)
{
    const char *p = e->resp_head, *end = p ? p + e->resp_head_len : NULL;
    const char *eol = p ? memchr(p, '\n', (size_t)(end - p)) : NULL; /* the status line */
    size_t nlen = strlen(name);
    while (eol && (p = eol + 1) < end) {
        eol = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = eol ? eol : end;
        const char *colon = memchr(p, ':', (size_t)(line_end - p));
        if (!colon || !name_matches(p, (size_t)(colon - p), name, nlen))
            continue;
        const char *v = colon + 1;
        while (v < line_end && (*v == ' ' || *v == '\t'))
            v++;
        const char *vend = line_end;
        while (vend > v && (vend[-1] == '\r' || vend[-1] == ' ' || vend[-1] == '\t'))
            vend--;
        *vlen = (size_t)(vend - v);
        return v;
    }
    return NULL;
}

static void put_resp_header(out_t *o, const chd_accesslog_entry_t *e, const char *name)
{
    size_t len = 0;
    const char *v = find_resp_header(e, name, &len);
    put_value(o, v, len);
}

/* Appends one atom's value. */
static void put_op(out_t *o, const cmn_accessfmt_t *fmt, const cmn_af_op_t *op,
                   const chd_accesslog_entry_t *e)
{
    uint64_t us = e->duration_us;
    switch (op->kind) {
    case CMN_AF_LITERAL: put(o, cmn_af_text(fmt, op), op->len); break;
    case CMN_AF_HOST: put_value(o, e->remote_addr, e->remote_addr ? strlen(e->remote_addr) : 0); break;
    case CMN_AF_LOGNAME:
    case CMN_AF_USER: put(o, "-", 1); break;
    case CMN_AF_TIME: chd_logtext_put_time(o, e->started); break;
    case CMN_AF_REQUEST: put_request_line(o, e); break;
    case CMN_AF_METHOD: put_value(o, e->method, e->method ? strlen(e->method) : 0); break;
    case CMN_AF_PATH: put_value(o, e->method ? e->target : NULL, query_start(e)); break;
    case CMN_AF_QUERY: {
        size_t q = query_start(e);
        if (e->method && q < e->target_len)
            put_escaped(o, e->target + q + 1, e->target_len - q - 1);
        break;
    }
    case CMN_AF_PROTOCOL: e->method ? put_protocol(o, e) : put(o, "-", 1); break;
    case CMN_AF_STATUS: e->status > 0 ? put_uint(o, (uint64_t)e->status) : put(o, "-", 1); break;
    case CMN_AF_BYTES: put_uint(o, e->body_bytes); break;
    case CMN_AF_BYTES_DASH: e->body_bytes ? put_uint(o, e->body_bytes) : put(o, "-", 1); break;
    case CMN_AF_REFERER: put_req_header(o, e, referer_name); break;
    case CMN_AF_AGENT: put_req_header(o, e, agent_name); break;
    case CMN_AF_SECONDS: put_uint(o, us / 1000000); break;
    case CMN_AF_MILLIS: put_uint(o, us / 1000); break;
    case CMN_AF_MICROS: put_uint(o, us); break;
    case CMN_AF_DECIMAL: chd_logtext_put_seconds(o, us); break;
    case CMN_AF_PID: put_uint(o, (uint64_t)e->pid); break;
    case CMN_AF_REQ_HEADER: put_req_header(o, e, cmn_af_text(fmt, op)); break;
    case CMN_AF_RESP_HEADER: put_resp_header(o, e, cmn_af_text(fmt, op)); break;
    }
}

size_t chd_accesslog_format_line(const cmn_accessfmt_t *fmt, const chd_accesslog_entry_t *e,
                                 char *out, size_t cap)
{
    out_t o = chd_logtext_over(out, cap - 4); /* room kept for "...\n" */
    const cmn_af_op_t *op = fmt->ops, *end = op + fmt->nops;
    for (; op < end && !o.cut; op++)
        put_op(&o, fmt, op, e);
    if (o.cut) {
        memcpy(o.p, "...", 3);
        o.p += 3;
    }
    *o.p++ = '\n';
    return (size_t)(o.p - out);
}

/* ------------------------------------------------------------ the log */

enum { FIELD_FORWARDED, FIELD_XFF }; /* the first slots of the_log.fields */

/* The process's access log. `enabled` is read without the lock on every
 * request; everything else is under `lock`, so a reopen can swap the fd
 * between two appends and lines stay in order. */
static struct {
    atomic_bool enabled;
    pthread_mutex_t lock;
    pthread_cond_t wake; /* the buffer got its first line, or stop */
    bool flusher_idle;   /* the flusher waits for a first line (not for its deadline) */
    cmn_accessfmt_t fmt; /* read without the lock: fixed while enabled */
    bool uses_host;      /* the format has %(h)s: worth reading X-Forwarded-For */
    /* The request fields a line may show, found in one pass per line:
     * Forwarded and X-Forwarded-For, then those the format asks for (read
     * without the lock: fixed while enabled). */
    chd_logfields_t fields;
    int pid;
    char *path;          /* NULL: stdout */
    int fd;              /* -1 when closed */
    atomic_size_t line_max; /* PIPE_BUF unless the fd is a regular file (read unlocked) */
    bool failing;        /* the last write failed (reported once) */
    bool stopping;
    bool flusher_running;
    pthread_t flusher;
    size_t len;
    char buf[CHD_ACCESSLOG_BUF];
} the_log = {.lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1};

/* Writes all of data. Lock held. A failed write drops the lines (they are
 * not retried: a full disk must not stall requests) and says so once. */
static void write_all(const char *data, size_t n)
{
    while (n > 0) {
        ssize_t w = write(the_log.fd, data, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (!the_log.failing)
                cmn_error("access log: write failed (%s); lines are lost until it works again",
                          w < 0 ? strerror(errno) : "no progress");
            the_log.failing = true;
            return;
        }
        data += w;
        n -= (size_t)w;
    }
    the_log.failing = false;
}

static void flush_locked(void)
{
    if (the_log.len > 0 && the_log.fd >= 0)
        write_all(the_log.buf, the_log.len);
    the_log.len = 0;
}

static void append(const char *line, size_t n)
{
    pthread_mutex_lock(&the_log.lock);
    if (the_log.fd >= 0) {
        if (the_log.len + n > sizeof the_log.buf)
            flush_locked();
        if (n > sizeof the_log.buf) {
            write_all(line, n); /* a long line gets a write of its own */
        } else {
            if (the_log.len == 0 && the_log.flusher_idle)
                pthread_cond_signal(&the_log.wake); /* else its deadline is coming anyway */
            memcpy(the_log.buf + the_log.len, line, n);
            the_log.len += n;
        }
    }
    pthread_mutex_unlock(&the_log.lock);
}

/* The flusher: once a line is buffered, waits CHD_ACCESSLOG_FLUSH_MS
 * (more lines join it meanwhile) and writes them all out. */
static void *flusher_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&the_log.lock);
    while (!the_log.stopping) {
        if (the_log.len == 0) {
            the_log.flusher_idle = true;
            pthread_cond_wait(&the_log.wake, &the_log.lock);
            the_log.flusher_idle = false;
            continue;
        }
        struct timespec deadline;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_nsec += CHD_ACCESSLOG_FLUSH_MS * 1000000L;
        deadline.tv_sec += deadline.tv_nsec / 1000000000L;
        deadline.tv_nsec %= 1000000000L;
        while (!the_log.stopping &&
               pthread_cond_timedwait(&the_log.wake, &the_log.lock, &deadline) != ETIMEDOUT)
            ;
        flush_locked();
    }
    pthread_mutex_unlock(&the_log.lock);
    return NULL;
}

/* A character device with /dev/null's device number. */
static bool is_dev_null(const struct stat *st)
{
    struct stat null;
    return S_ISCHR(st->st_mode) && stat("/dev/null", &null) == 0 && null.st_rdev == st->st_rdev;
}

/* Lines to a regular file may be long (O_APPEND writes do not interleave);
 * elsewhere they must fit PIPE_BUF to be written atomically. */
static size_t line_max_for(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? CHD_ACCESSLOG_LINE_MAX : PIPE_BUF;
}

static int open_log(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    return fd < 0 ? -errno : fd;
}

/* Where lines go: *fd is the opened file, stdout, or -1 (/dev/null: off).
 * Returns 0 or -errno with err filled. */
static int open_target(const char *path, int *fd, char *err, size_t errlen)
{
    struct stat st;
    *fd = -1;
    if (!path) {
        if (fstat(STDOUT_FILENO, &st) != 0 || !is_dev_null(&st))
            *fd = STDOUT_FILENO;
        return 0;
    }
    if (stat(path, &st) == 0 && is_dev_null(&st))
        return 0;
    int rc = open_log(path);
    if (rc < 0) {
        snprintf(err, errlen, "--access-log-file %s: %s", path, strerror(-rc));
        return rc;
    }
    *fd = rc;
    return 0;
}

/* path made absolute against the current directory (malloc'd; NULL when
 * out of memory): the child changes directory for --chdir after opening,
 * and a reopen must find the same file. */
static char *absolute_path(const char *path)
{
    char cwd[PATH_MAX], *out = NULL;
    if (path[0] == '/' || !getcwd(cwd, sizeof cwd))
        return strdup(path);
    return asprintf(&out, "%s/%s", cwd, path) < 0 ? NULL : out;
}

static bool format_uses(const cmn_accessfmt_t *fmt, cmn_af_kind_t kind)
{
    for (int i = 0; i < fmt->nops; i++)
        if (fmt->ops[i].kind == kind)
            return true;
    return false;
}

/* Lists the request fields a line may show, from the compiled format; a
 * name the set has no room for is searched for per line instead. */
static void list_fields(void)
{
    chd_logfields_clear(&the_log.fields);
    chd_logfields_add(&the_log.fields, "Forwarded");       /* FIELD_FORWARDED */
    chd_logfields_add(&the_log.fields, "X-Forwarded-For"); /* FIELD_XFF */
    for (int i = 0; i < the_log.fmt.nops; i++) {
        const cmn_af_op_t *op = &the_log.fmt.ops[i];
        if (op->kind == CMN_AF_REFERER)
            chd_logfields_add(&the_log.fields, referer_name);
        else if (op->kind == CMN_AF_AGENT)
            chd_logfields_add(&the_log.fields, agent_name);
        else if (op->kind == CMN_AF_REQ_HEADER)
            chd_logfields_add(&the_log.fields, cmn_af_text(&the_log.fmt, op));
    }
}

static int start_flusher(void)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&the_log.wake, &attr);
    pthread_condattr_destroy(&attr);
    if (rc == 0)
        rc = pthread_create(&the_log.flusher, NULL, flusher_main, NULL);
    the_log.flusher_running = rc == 0;
    return -rc;
}

int chd_accesslog_start(const char *path, const char *format, char *err, size_t errlen)
{
    char why[160];
    int rc = cmn_accessfmt_compile_folded(format, &the_log.fmt, why, sizeof why);
    if (rc < 0) {
        snprintf(err, errlen, "--access-log-format: %s", why);
        return rc;
    }
    char *abs = path ? absolute_path(path) : NULL;
    int fd;
    rc = path && !abs ? -ENOMEM : open_target(abs, &fd, err, errlen);
    if (rc < 0) {
        free(abs);
        cmn_accessfmt_free(&the_log.fmt);
        return rc;
    }
    the_log.fd = fd;
    the_log.path = abs;
    atomic_store(&the_log.line_max, fd >= 0 ? line_max_for(fd) : PIPE_BUF);
    the_log.uses_host = format_uses(&the_log.fmt, CMN_AF_HOST);
    list_fields();
    the_log.pid = (int)getpid();
    the_log.len = 0;
    the_log.stopping = the_log.failing = false;
    if (fd >= 0 && (rc = start_flusher()) < 0) {
        snprintf(err, errlen, "access log: cannot start its thread: %s", strerror(-rc));
        chd_accesslog_stop();
        return rc;
    }
    atomic_store(&the_log.enabled, fd >= 0);
    return 0;
}

bool chd_accesslog_enabled(void) { return atomic_load_explicit(&the_log.enabled, memory_order_relaxed); }

void chd_accesslog_write(const chd_accesslog_entry_t *e)
{
    static __thread char line[CHD_ACCESSLOG_LINE_MAX];
    if (!chd_accesslog_enabled())
        return;
    size_t max = atomic_load_explicit(&the_log.line_max, memory_order_relaxed);
    size_t cap = max < sizeof line ? max : sizeof line;
    append(line, chd_accesslog_format_line(&the_log.fmt, e, line, cap));
}

void chd_accesslog_flush(void)
{
    pthread_mutex_lock(&the_log.lock);
    flush_locked();
    pthread_mutex_unlock(&the_log.lock);
}

int chd_accesslog_reopen(void)
{
    int rc = 0;
    pthread_mutex_lock(&the_log.lock);
    flush_locked();
    if (the_log.fd >= 0 && the_log.path) {
        int fd = open_log(the_log.path);
        if (fd >= 0) {
            close(the_log.fd);
            the_log.fd = fd;
            atomic_store(&the_log.line_max, line_max_for(fd));
        }
        rc = fd < 0 ? fd : 0;
    }
    pthread_mutex_unlock(&the_log.lock);
    if (rc < 0)
        cmn_error("cannot reopen the access log %s: %s", the_log.path, strerror(-rc));
    else if (the_log.path)
        cmn_debug("access log %s reopened", the_log.path);
    return rc;
}

void chd_accesslog_stop(void)
{
    atomic_store(&the_log.enabled, false);
    if (the_log.flusher_running) {
        pthread_mutex_lock(&the_log.lock);
        the_log.stopping = true;
        pthread_cond_signal(&the_log.wake);
        pthread_mutex_unlock(&the_log.lock);
        pthread_join(the_log.flusher, NULL);
        pthread_cond_destroy(&the_log.wake);
        the_log.flusher_running = false;
    }
    pthread_mutex_lock(&the_log.lock);
    flush_locked();
    if (the_log.fd > STDERR_FILENO)
        close(the_log.fd);
    the_log.fd = -1;
    pthread_mutex_unlock(&the_log.lock);
    free(the_log.path);
    the_log.path = NULL;
    chd_logfields_clear(&the_log.fields); /* its names point into the format */
    cmn_accessfmt_free(&the_log.fmt);
}

/* ------------------------------------------------------------ request hooks */

/* One line's request fields (the_log.fields found in its request). */
typedef struct {
    const chd_request_t *req;
    chd_logfields_found_t fields;
    chd_forwarded_t fwd; /* what a trusted proxy says about the client */
} line_fields_t;

/* The entry's request header lookup. The formatter asks with the very
 * strings the_log.fields lists, so their slot is found by address; any
 * other name (one the set had no room for) is searched for. */
static const char *request_header(const void *ctx, const char *name, size_t *len)
{
    const line_fields_t *lf = ctx;
    int slot = chd_logfields_slot(&the_log.fields, name);
    const chd_header_t *h =
        slot >= 0 ? lf->fields.found[slot] : chd_request_find_header(lf->req, name);
    if (!h)
        return NULL;
    *len = h->value_len;
    return chd_header_value(lf->req, h);
}

/* What both hooks share: the client as the app saw it (REMOTE_ADDR, after
 * a trusted proxy's X-Forwarded-For), the headers, the clocks. `lf` is the
 * caller's: the entry points into it. */
static void fill_entry(chd_accesslog_entry_t *e, const chd_conn_t *conn, double since,
                       line_fields_t *lf)
{
    memset(e, 0, sizeof *e);
    lf->req = &conn->req;
    chd_logfields_find(&the_log.fields, &conn->req, &lf->fields);
    lf->fwd.addr[0] = '\0';
    if (the_log.uses_host && conn->via_trusted_proxy)
        chd_forwarded_client(&conn->req, lf->fields.found[FIELD_FORWARDED],
                             lf->fields.found[FIELD_XFF], &lf->fwd);
    e->remote_addr = lf->fwd.addr[0] ? lf->fwd.addr : conn->peer_addr;
    e->req_header = request_header;
    e->req_ctx = lf;
    e->pid = the_log.pid;
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME_COARSE, &wall); /* a whole second is all the log shows */
    double took = chd_monotonic() - since;
    if (took < 0)
        took = 0;
    e->duration_us = (uint64_t)(took * 1e6);
    e->started = (time_t)((double)wall.tv_sec + wall.tv_nsec / 1e9 - took);
}

/* A running request's line: its method, target and version, timed from
 * its start. */
static void write_running(const chd_conn_t *conn, int status, uint64_t body_bytes,
                          const char *head, size_t head_len)
{
    chd_accesslog_entry_t e;
    line_fields_t fields;
    fill_entry(&e, conn, conn->request_started, &fields);
    const chd_request_t *req = &conn->req;
    e.method = chd_request_method(req);
    e.target = chd_request_url(req);
    e.target_len = req->url_len;
    e.http_major = req->http_major;
    e.http_minor = req->http_minor;
    e.status = status;
    e.body_bytes = body_bytes;
    e.resp_head = head;
    e.resp_head_len = head_len;
    chd_accesslog_write(&e);
}

void chd_accesslog_response(const chd_conn_t *conn, const chd_response_t *resp)
{
    if (!chd_accesslog_enabled() ||
        atomic_load(&((chd_conn_t *)conn)->answer) == CHD_ANSWER_TIMED_OUT)
        return;
    write_running(conn, resp->status, resp->body_bytes, cmn_buf_head(&resp->head),
                  cmn_buf_unread(&resp->head));
}

void chd_accesslog_overruled(const chd_conn_t *conn, int status, uint64_t body_bytes,
                             const char *head, size_t head_len)
{
    if (chd_accesslog_enabled())
        write_running(conn, status, body_bytes, head, head_len);
}

void chd_accesslog_rejected(const chd_conn_t *conn, int status, uint64_t body_bytes,
                            const char *head, size_t head_len)
{
    if (!chd_accesslog_enabled())
        return;
    chd_accesslog_entry_t e;
    line_fields_t fields;
    const chd_request_t *req = &conn->req;
    fill_entry(&e, conn, atomic_load(&((chd_conn_t *)conn)->last_done), &fields);
    if (req->url_len > 0 && chd_head_check_line_done(&req->head_check)) {
        /* The line is whole: http-parser got past the method and the
         * version even if the head failed later. */
        e.method = chd_request_line_method(req); /* also a method we refused */
        e.target = chd_request_url(req);
        e.target_len = req->url_len;
        e.http_major = req->parser.http_major;
        e.http_minor = req->parser.http_minor;
    }
    e.status = status;
    e.body_bytes = body_bytes;
    e.resp_head = head;
    e.resp_head_len = head_len;
    chd_accesslog_write(&e);
}
