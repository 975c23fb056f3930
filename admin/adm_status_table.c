/* adm_status_table: see adm_status_table.h.
 *
 * The number formatting matches the controller's HTML page
 * (controller/ctl_status_html.c); the two planes link separately, so each
 * keeps its own small copy. */
#include "adm_status_table.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define CELL 64 /* room for any one formatted value in the table */
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

/* ---- reading the document -------------------------------------------- */

static bool get_num(json_t *obj, const char *key, double *v)
{
    json_t *j = json_object_get(obj, key); /* NULL when obj is not an object */
    if (!json_is_number(j))
        return false;
    *v = json_number_value(j);
    return true;
}

static bool get_int(json_t *obj, const char *key, long long *v)
{
    json_t *j = json_object_get(obj, key);
    if (json_is_integer(j)) {
        *v = (long long)json_integer_value(j);
        return true;
    }
    double d;
    if (!get_num(obj, key, &d) || d > 9e18 || d < -9e18)
        return false;
    *v = (long long)d;
    return true;
}

static const char *get_str(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key)); /* NULL unless a string */
}

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

/* ---- formatting numbers for people ------------------------------------ */

/* 1234567 -> "1,234,567". */
static void fmt_count(long long v, char *buf, size_t len)
{
    char digits[32];
    snprintf(digits, sizeof digits, "%llu", v < 0 ? 0ULL - (unsigned long long)v
                                                  : (unsigned long long)v);
    size_t n = strlen(digits), o = 0;
    if (v < 0 && o + 1 < len)
        buf[o++] = '-';
    for (size_t i = 0; i < n && o + 1 < len; i++) {
        if (i > 0 && (n - i) % 3 == 0 && o + 2 < len)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
}

/* Seconds -> "45s", "2m 03s", "1h 02m 03s", "3d 04h 05m". */
static void fmt_duration(double secs, char *buf, size_t len)
{
    if (!(secs > 0))
        secs = 0;
    if (secs > 1e15)
        secs = 1e15;
    unsigned long long t = (unsigned long long)secs;
    unsigned long long d = t / 86400, h = t / 3600 % 24, m = t / 60 % 60, s = t % 60;
    if (d)
        snprintf(buf, len, "%llud %02lluh %02llum", d, h, m);
    else if (h)
        snprintf(buf, len, "%lluh %02llum %02llus", h, m, s);
    else if (m)
        snprintf(buf, len, "%llum %02llus", m, s);
    else
        snprintf(buf, len, "%llus", s);
}

/* Bytes -> "512 B", "120.6 KiB", "30.0 MiB", "1.2 GiB". */
static void fmt_bytes(double b, char *buf, size_t len)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (b >= 1024 && u < 4) {
        b /= 1024;
        u++;
    }
    snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", b, units[u]);
}

/* Each cell_* fills buf (CELL bytes) and returns it, or "-" when the member
 * is missing. cell_int is for identifiers, cell_count for quantities. */
static const char *cell_int(json_t *obj, const char *key, char *buf)
{
    long long v;
    if (!get_int(obj, key, &v))
        return "-";
    snprintf(buf, CELL, "%lld", v);
    return buf;
}

static const char *cell_count(json_t *obj, const char *key, char *buf)
{
    long long v;
    if (!get_int(obj, key, &v))
        return "-";
    fmt_count(v, buf, CELL);
    return buf;
}

static const char *cell_duration(json_t *obj, const char *key, char *buf)
{
    double v;
    if (!get_num(obj, key, &v))
        return "-";
    fmt_duration(v, buf, CELL);
    return buf;
}

static const char *cell_mib(json_t *obj, const char *key, char *buf)
{
    double v;
    if (!get_num(obj, key, &v))
        return "-";
    snprintf(buf, CELL, "%.1f", v / (1024.0 * 1024.0));
    return buf;
}

static const char *cell_rate(json_t *obj, const char *key, char *buf)
{
    double v;
    if (!get_num(obj, key, &v))
        return "-";
    snprintf(buf, CELL, "%.1f", v);
    return buf;
}

static const char *cell_bytes(json_t *obj, const char *key, char *buf)
{
    double v;
    if (!get_num(obj, key, &v))
        return "-";
    fmt_bytes(v, buf, CELL);
    return buf;
}

/* "0.3s ago" from the document's "now" and the child's timestamp. */
static const char *cell_ago(json_t *doc, json_t *obj, const char *key, char *buf)
{
    double now, then;
    if (!get_num(doc, "now", &now) || !get_num(obj, key, &then))
        return "-";
    double ago = now - then > 0 ? now - then : 0;
    if (ago < 60)
        snprintf(buf, CELL, "%.1fs ago", ago);
    else {
        fmt_duration(ago, buf, CELL);
        strncat(buf, " ago", CELL - strlen(buf) - 1);
    }
    return buf;
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
    if (!get_int(doc, "active_children_count", &active) ||
        !get_int(doc, "configured_children_count", &configured))
        fputs("UNKNOWN", out);
    else if (configured > 0 && active >= configured)
        fputs("ok", out);
    else
        fprintf(out, "DEGRADED (%lld of %lld children active)", active, configured);
    if (get_int(doc, "pending_generation", &pending) && pending > 0)
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
    const char *reason = get_str(reloads, "last_reason");
    const char *error = get_str(reloads, "last_error");
    char count[CELL], line[256];
    fprintf(out, "reloads     %s", cell_count(reloads, "count", count));
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

static void print_header(FILE *out, json_t *doc)
{
    char a[CELL], b[CELL], c[CELL], d[CELL], e[CELL];
    json_t *config = json_object_get(doc, "config");
    const char *app = get_str(config, "app"), *version = get_str(doc, "spawning_version");
    fprintf(out, "controller  pid %s, up %s, spawning ", cell_int(doc, "pid", a),
            cell_duration(doc, "uptime", b));
    put_clean(out, version ? version : "-");
    fputs("\nlisten      ", out);
    print_listen(out, doc);
    fputs("app         ", out);
    put_clean(out, app ? app : "-");
    fprintf(out, "\ngeneration  %s\n", cell_int(doc, "generation", a));
    fprintf(out, "children    %s configured, %s active, %s killed\n",
            cell_count(doc, "configured_children_count", a),
            cell_count(doc, "active_children_count", b),
            cell_count(doc, "killed_children_count", c));
    print_state(out, doc);
    fprintf(out, "requests    %s total, %s/s, %s in flight, %s 5xx, %s sent\n",
            cell_count(doc, "requests", a), cell_rate(doc, "requests_per_second", b),
            cell_count(doc, "concurrent_requests", c), cell_count(doc, "responses_5xx", d),
            cell_bytes(doc, "bytes_sent", e));
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
    const char *state = get_str(child, "state");
    char(*c)[CELL] = r->cells;
    if (!get_int(child, "generation", &r->generation))
        r->generation = LLONG_MAX;
    if (!get_int(child, "pid", &r->pid))
        r->pid = strtoll(key, NULL, 10);
    snprintf(c[0], CELL, "%lld", r->pid);
    set_cell(c[1], cell_int(child, "generation", c[1]));
    copy_clean(c[2], CELL, state ? state : "-", CELL);
    set_cell(c[3], cell_duration(child, "uptime", c[3]));
    set_cell(c[4], cell_count(child, "requests", c[4]));
    set_cell(c[5], cell_count(child, "concurrent_requests", c[5]));
    set_cell(c[6], cell_count(child, "active_connections", c[6]));
    set_cell(c[7], cell_mib(child, "rss_bytes", c[7]));
    set_cell(c[8], cell_ago(doc, child, "last_heartbeat", c[8]));
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

/* Returns 0 or -ENOMEM. */
static int print_children(FILE *out, json_t *doc)
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
    int rc = print_children(out, doc);
    if (rc < 0)
        return rc;
    return ferror(out) ? -EIO : 0;
}
