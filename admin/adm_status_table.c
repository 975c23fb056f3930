/* adm_status_table: see adm_status_table.h.
 *
 * Members are read and numbers formatted by common/cmn_statusfmt, as for the
 * controller's HTML page; what is left here is the layout and keeping
 * control characters off the terminal. */
#include "adm_status_table.h"
#include "cmn_statusfmt.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define CELL CMN_STATUSFMT_CELL /* room for any one formatted value in the table */
#define NCOLS 9

typedef struct {
    long long generation; /* LLONG_MAX when unknown: sorts last */
    long long pid;
    char cells[NCOLS][CELL];
} row_t;

static const char *const HEADINGS[NCOLS] = {"PID",    "GEN",   "STATE",    "AGE",      "REQUESTS",
                                            "ACTIVE", "CONNS", "RSS(MiB)", "HEARTBEAT"};
/* Columns of numbers are right-aligned, words left-aligned. */
static const bool RIGHT[NCOLS] = {true, true, false, true, true, true, true, true, true};

/* ---- strings for the terminal ----------------------------------------- */

/* Copies at most n bytes of s into buf (of len > 0), control characters as '?'. */
static void copy_clean(char *buf, size_t len, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && s[i] && o + 1 < len; i++)
        buf[o++] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    buf[o] = '\0';
}

/* Writes s to out with control characters as '?'. */
static void put_clean(FILE *out, const char *s)
{
    for (; *s; s++)
        fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, out);
}

/* ---- the header block -------------------------------------------------- */

static void print_listen(FILE *out, json_t *doc)
{
    json_t *listen = json_object_get(doc, "listen");
    size_t i, shown = 0;
    json_t *url;
    json_array_foreach(listen, i, url) {
        if (!json_is_string(url))
            continue;
        fputs(shown++ ? ", " : "", out);
        put_clean(out, json_string_value(url));
    }
    fputs(shown ? "\n" : "-\n", out);
}

static void print_state(FILE *out, json_t *doc)
{
    long long active, configured, pending;
    fputs("state       ", out);
    if (!cmn_statusfmt_get_int(doc, "active_children_count", &active) ||
        !cmn_statusfmt_get_int(doc, "configured_children_count", &configured))
        fputs("UNKNOWN", out);
    else if (configured > 0 && active >= configured)
        fputs("ok", out);
    else
        fprintf(out, "DEGRADED (%lld of %lld children active)", active, configured);
    if (cmn_statusfmt_get_int(doc, "pending_generation", &pending) && pending > 0)
        fprintf(out, ", reloading (starting generation %lld)", pending);
    fputc('\n', out);
}

/* The line of a reload error worth one line: for a Python traceback the
 * last non-empty line (the exception), otherwise the first. */
static void error_line(const char *error, char *buf, size_t len)
{
    const char *start = error, *end = strchr(error, '\n');
    if (strncmp(error, "Traceback", 9) == 0) {
        end = error + strlen(error);
        while (end > error && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
            end--;
        start = end;
        while (start > error && start[-1] != '\n')
            start--;
    }
    copy_clean(buf, len, start, end ? (size_t)(end - start) : strlen(start));
}

static void print_reloads(FILE *out, json_t *doc)
{
    json_t *reloads = json_object_get(doc, "reloads");
    const char *reason = cmn_statusfmt_get_str(reloads, "last_reason");
    const char *error = cmn_statusfmt_get_str(reloads, "last_error");
    char count[CELL], line[256];
    fprintf(out, "reloads     %s", cmn_statusfmt_cell_count(reloads, "count", count));
    if (reason) {
        fputs(", last: ", out);
        put_clean(out, reason);
        fputs(error ? ", failed" : ", succeeded", out);
    }
    if (error) {
        error_line(error, line, sizeof line);
        fprintf(out, "\nlast error  %s", line);
    }
    fputc('\n', out);
}

/* A latency in seconds as "4.2 ms" or "1.25 s"; "-" while unknown (null). */
static const char *cell_latency(json_t *obj, const char *key, char buf[CELL])
{
    double s;
    if (!cmn_statusfmt_get_num(obj, key, &s))
        snprintf(buf, CELL, "-");
    else if (s < 1)
        snprintf(buf, CELL, "%.1f ms", s * 1000);
    else
        snprintf(buf, CELL, "%.2f s", s);
    return buf;
}

/* Percentiles (estimated from the histogram buckets: see README), and how
 * busy the threads and connections are. */
static void print_load(FILE *out, json_t *doc)
{
    char a[CELL], b[CELL], c[CELL], d[CELL];
    json_t *latency = json_object_get(doc, "latency"), *queue = json_object_get(doc, "queue_time");
    fprintf(out, "latency     p50 %s, p90 %s, p99 %s; waiting for a thread: p99 %s\n",
            cell_latency(latency, "p50", a), cell_latency(latency, "p90", b),
            cell_latency(latency, "p99", c), cell_latency(queue, "p99", d));
    json_t *threads = json_object_get(doc, "threads"), *conns = json_object_get(doc, "connections");
    fprintf(out, "busy        %s of %s threads, %s connections open (%s idle)\n",
            cmn_statusfmt_cell_count(threads, "busy", a),
            cmn_statusfmt_cell_count(threads, "configured", b),
            cmn_statusfmt_cell_count(conns, "open", c), cmn_statusfmt_cell_count(conns, "idle", d));
    char reasons[1024];
    cmn_statusfmt_closed(doc, reasons, sizeof reasons);
    fprintf(out, "closed      ");
    put_clean(out, reasons); /* names come from the socket: no terminal escapes */
    fputc('\n', out);
}

static void print_header(FILE *out, json_t *doc)
{
    char a[CELL], b[CELL], c[CELL], d[CELL], e[CELL];
    json_t *config = json_object_get(doc, "config");
    const char *app = cmn_statusfmt_get_str(config, "app");
    const char *version = cmn_statusfmt_get_str(doc, "spawning_version");
    fprintf(out, "controller  pid %s, up %s, spawning ",
            cmn_statusfmt_cell_int(doc, "pid", a), cmn_statusfmt_cell_duration(doc, "uptime", b));
    put_clean(out, version ? version : "-");
    fputs("\nlisten      ", out);
    print_listen(out, doc);
    fputs("app         ", out);
    put_clean(out, app ? app : "-");
    fprintf(out, "\ngeneration  %s\n", cmn_statusfmt_cell_int(doc, "generation", a));
    fprintf(out, "children    %s configured, %s active, %s killed\n",
            cmn_statusfmt_cell_count(doc, "configured_children_count", a),
            cmn_statusfmt_cell_count(doc, "active_children_count", b),
            cmn_statusfmt_cell_count(doc, "killed_children_count", c));
    print_state(out, doc);
    fprintf(out, "requests    %s total, %s/s, %s in flight, %s 5xx, %s sent\n",
            cmn_statusfmt_cell_count(doc, "requests", a),
            cmn_statusfmt_cell_rate(doc, "requests_per_second", b),
            cmn_statusfmt_cell_count(doc, "concurrent_requests", c),
            cmn_statusfmt_cell_count(doc, "responses_5xx", d),
            cmn_statusfmt_cell_bytes(doc, "bytes_sent", e));
    print_load(out, doc);
    print_reloads(out, doc);
}

/* ---- the children table ----------------------------------------------- */

/* Stores a cell_* result in its cell (it may already be there). */
static void set_cell(char *cell, const char *value)
{
    if (value != cell)
        snprintf(cell, CELL, "%s", value);
}

static void fill_row(row_t *r, json_t *doc, json_t *child, const char *key)
{
    const char *state = cmn_statusfmt_get_str(child, "state");
    char(*c)[CELL] = r->cells;
    if (!cmn_statusfmt_get_int(child, "generation", &r->generation))
        r->generation = LLONG_MAX;
    if (!cmn_statusfmt_get_int(child, "pid", &r->pid))
        r->pid = strtoll(key, NULL, 10);
    snprintf(c[0], CELL, "%lld", r->pid);
    set_cell(c[1], cmn_statusfmt_cell_int(child, "generation", c[1]));
    copy_clean(c[2], CELL, state ? state : "-", CELL);
    set_cell(c[3], cmn_statusfmt_cell_duration(child, "uptime", c[3]));
    set_cell(c[4], cmn_statusfmt_cell_count(child, "requests", c[4]));
    set_cell(c[5], cmn_statusfmt_cell_count(child, "concurrent_requests", c[5]));
    set_cell(c[6], cmn_statusfmt_cell_count(child, "active_connections", c[6]));
    set_cell(c[7], cmn_statusfmt_cell_mib(child, "rss_bytes", c[7]));
    set_cell(c[8], cmn_statusfmt_cell_ago(doc, child, "last_heartbeat", c[8]));
}

static int compare_rows(const void *x, const void *y)
{
    const row_t *a = x, *b = y;
    if (a->generation != b->generation)
        return a->generation < b->generation ? -1 : 1;
    return (a->pid > b->pid) - (a->pid < b->pid);
}

static void print_line(FILE *out, const char *const cells[NCOLS], const int width[NCOLS])
{
    for (int i = 0; i < NCOLS; i++) {
        const char *sep = i + 1 < NCOLS ? "  " : "\n";
        if (RIGHT[i])
            fprintf(out, "%*s%s", width[i], cells[i], sep);
        else if (i + 1 < NCOLS)
            fprintf(out, "%-*s%s", width[i], cells[i], sep);
        else
            fprintf(out, "%s%s", cells[i], sep);
    }
}

static void print_rows(FILE *out, const row_t *rows, size_t n)
{
    int width[NCOLS];
    for (int i = 0; i < NCOLS; i++)
        width[i] = (int)strlen(HEADINGS[i]);
    for (size_t r = 0; r < n; r++)
        for (int i = 0; i < NCOLS; i++)
            if ((int)strlen(rows[r].cells[i]) > width[i])
                width[i] = (int)strlen(rows[r].cells[i]);
    print_line(out, HEADINGS, width);
    for (size_t r = 0; r < n; r++) {
        const char *cells[NCOLS];
        for (int i = 0; i < NCOLS; i++)
            cells[i] = rows[r].cells[i];
        print_line(out, cells, width);
    }
}

int adm_status_print_children(FILE *out, json_t *doc)
{
    json_t *children = json_object_get(doc, "children");
    size_t n = json_is_object(children) ? json_object_size(children) : 0;
    fputc('\n', out);
    if (n == 0) {
        fputs("no children\n", out);
        return 0;
    }
    row_t *rows = calloc(n, sizeof *rows);
    if (!rows)
        return -ENOMEM;
    size_t i = 0;
    const char *key;
    json_t *child;
    json_object_foreach(children, key, child)
        fill_row(&rows[i++], doc, child, key);
    qsort(rows, n, sizeof *rows, compare_rows);
    print_rows(out, rows, n);
    free(rows);
    return 0;
}

int adm_status_print(FILE *out, json_t *doc)
{
    if (!json_is_object(doc))
        return -EINVAL;
    print_header(out, doc);
    int rc = adm_status_print_children(out, doc);
    if (rc < 0)
        return rc;
    return ferror(out) ? -EIO : 0;
}
