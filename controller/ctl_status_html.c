/* ctl_status_html: see ctl_status_html.h.
 *
 * The page is built in a cmn_buf through a small writer whose first
 * allocation failure sticks (page_t.err), so the section functions read as
 * straight-line markup and the error is checked once, at the end. Members
 * are read and numbers formatted by common/cmn_statusfmt, as for `spawnctl
 * status`; escaping stays here. */
#include "ctl_status_html.h"
#include "cmn_buf.h"
#include "cmn_statusfmt.h"
#include "ctl_svgchart.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CELL CMN_STATUSFMT_CELL /* room for any one formatted number */

typedef struct {
    cmn_buf_t buf;
    int err; /* 0, or -ENOMEM once an append failed */
} page_t;

/* One child row, with its sort keys pulled out of the JSON. */
typedef struct {
    json_t *child;
    long long generation; /* LLONG_MAX when unknown: sorts last */
    long long pid;
} row_t;

static const char STYLE[] =
    "body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;"
    "margin:1.5em;color:#222;background:#fafafa}"
    "h1{font-size:1.4em;margin:0 0 .2em}h2{font-size:1.1em;margin:1.4em 0 .4em}"
    ".summary{margin:0;color:#444}"
    ".state{display:inline-block;padding:.1em .6em;border-radius:.3em;color:#fff;"
    "font-size:.8em;vertical-align:middle}"
    ".ok{background:#2e7d32}.bad{background:#c62828}"
    "table{border-collapse:collapse;background:#fff}"
    "th,td{padding:.25em .8em;border-bottom:1px solid #e0e0e0;text-align:left}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}"
    "th{background:#eee;font-weight:600}"
    ".ready{color:#2e7d32}.starting{color:#ef6c00}.draining{color:#757575}"
    "pre{background:#fff3f3;border:1px solid #e57373;padding:.8em;overflow:auto;"
    "white-space:pre-wrap}"
    "svg{display:block}figure{margin:0}.traffic{display:flex;gap:2em;flex-wrap:wrap;align-items:flex-start}"
    "footer{margin-top:2em;color:#777;font-size:.85em}";

/* ---- the writer ------------------------------------------------------ */

static void out(page_t *p, const char *s)
{
    if (!p->err && cmn_buf_append_str(&p->buf, s) < 0)
        p->err = -ENOMEM;
}

__attribute__((format(printf, 2, 3))) static void outf(page_t *p, const char *fmt, ...);

static void outf(page_t *p, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n < sizeof small) {
        out(p, n < 0 ? "" : small);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        p->err = -ENOMEM;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    out(p, big);
    free(big);
}

/* Appends s with the five HTML-significant characters escaped; safe both in
 * text and inside a double- or single-quoted attribute. */
static void out_esc(page_t *p, const char *s)
{
    const char *run = s;
    for (; *s; s++) {
        const char *ent = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;"
                        : *s == '"' ? "&quot;" : *s == '\'' ? "&#39;" : NULL;
        if (!ent)
            continue;
        if (!p->err && cmn_buf_append(&p->buf, run, (size_t)(s - run)) < 0)
            p->err = -ENOMEM;
        out(p, ent);
        run = s + 1;
    }
    out(p, run);
}

/* ---- sections ---------------------------------------------------------- */

/* Green when every configured child is active, red otherwise. */
static void out_state(page_t *p, json_t *doc)
{
    long long active, configured;
    if (!cmn_statusfmt_get_int(doc, "active_children_count", &active) ||
        !cmn_statusfmt_get_int(doc, "configured_children_count", &configured))
        out(p, "<span class=\"state bad\">UNKNOWN</span>");
    else if (configured > 0 && active >= configured)
        out(p, "<span class=\"state ok\">OK</span>");
    else
        outf(p, "<span class=\"state bad\">DEGRADED: %lld of %lld children</span>", active,
             configured);
}

static void out_listen(page_t *p, json_t *doc)
{
    json_t *listen = json_object_get(doc, "listen");
    size_t i, shown = 0;
    json_t *url;
    json_array_foreach(listen, i, url) {
        if (!json_is_string(url))
            continue;
        out(p, shown++ ? ", " : "");
        out_esc(p, json_string_value(url));
    }
    if (!shown)
        out(p, "-");
}

static void out_header(page_t *p, json_t *doc)
{
    char pid[CELL], up[CELL], gen[CELL];
    long long pending;
    out(p, "<header>\n<h1>Spawning ");
    out_state(p, doc);
    outf(p, "</h1>\n<p class=\"summary\">pid %s &middot; up %s &middot; generation %s",
         cmn_statusfmt_cell_int(doc, "pid", pid), cmn_statusfmt_cell_duration(doc, "uptime", up),
         cmn_statusfmt_cell_int(doc, "generation", gen));
    if (cmn_statusfmt_get_int(doc, "pending_generation", &pending) && pending > 0)
        outf(p, " (starting %lld)", pending);
    out(p, " &middot; listening on ");
    out_listen(p, doc);
    out(p, "</p>\n</header>\n");
}

static void out_kv(page_t *p, const char *name, const char *value)
{
    outf(p, "<tr><th>%s</th><td class=\"n\">", name);
    out_esc(p, value);
    out(p, "</td></tr>\n");
}

/* The reasons connections closed for, those that happened, in the
 * document's order: "finished 1,520, idle 3, malformed 1"; "-" when none. */
static void out_closed(page_t *p, json_t *doc)
{
    char reasons[1024];
    cmn_statusfmt_closed(doc, reasons, sizeof reasons);
    out(p, "<tr><th>Connections closed</th><td>");
    out_esc(p, reasons);
    out(p, "</td></tr>\n");
}

static void out_totals(page_t *p, json_t *doc)
{
    char a[CELL], b[CELL], c[CELL], buf[3 * CELL];
    out(p, "<h2>Totals</h2>\n<table class=\"kv\">\n");
    snprintf(buf, sizeof buf, "%s active / %s configured / %s killed",
             cmn_statusfmt_cell_count(doc, "active_children_count", a),
             cmn_statusfmt_cell_count(doc, "configured_children_count", b),
             cmn_statusfmt_cell_count(doc, "killed_children_count", c));
    out_kv(p, "Children", buf);
    out_kv(p, "Requests", cmn_statusfmt_cell_count(doc, "requests", a));
    out_kv(p, "Requests per second", cmn_statusfmt_cell_rate(doc, "requests_per_second", a));
    out_kv(p, "Requests in flight", cmn_statusfmt_cell_count(doc, "concurrent_requests", a));
    out_kv(p, "5xx responses", cmn_statusfmt_cell_count(doc, "responses_5xx", a));
    out_kv(p, "Sent", cmn_statusfmt_cell_bytes(doc, "bytes_sent", a));
    out_closed(p, doc);
    out(p, "</table>\n");
}

/* ---- traffic: the rate chart, latency and saturation ------------------- */

static void format_rate(double value, char *buf, size_t size)
{
    snprintf(buf, size, "%.0f/s", value);
}

static void format_mib(double value, char *buf, size_t size)
{
    snprintf(buf, size, "%.0f MiB", value / (1024.0 * 1024.0));
}

static void out_chart(page_t *p, const ctl_svgchart_t *chart, json_t *points)
{
    if (!p->err && ctl_svgchart_append(&p->buf, chart, points) < 0)
        p->err = -ENOMEM;
}

/* "12.3 ms" for a member in seconds, "-" when missing. */
static const char *cell_ms(json_t *obj, const char *key, char buf[CELL])
{
    double seconds;
    if (!cmn_statusfmt_get_num(obj, key, &seconds))
        return "-";
    snprintf(buf, CELL, seconds < 0.01 ? "%.2f ms" : "%.1f ms", seconds * 1000.0);
    return buf;
}

static void out_latency(page_t *p, json_t *doc)
{
    json_t *latency = json_object_get(doc, "latency");
    char a[CELL];
    out(p, "<table class=\"kv latency\">\n");
    out_kv(p, "Latency p50", cell_ms(latency, "p50", a));
    out_kv(p, "Latency p90", cell_ms(latency, "p90", a));
    out_kv(p, "Latency p99", cell_ms(latency, "p99", a));
    out(p, "</table>\n");
}

/* Busy worker threads of all children against the configured, as a bar. */
static void out_saturation(page_t *p, json_t *doc)
{
    json_t *threads = json_object_get(doc, "threads");
    long long busy, configured;
    out(p, "<table class=\"kv saturation\">\n<tr><th>Threads busy</th><td class=\"n\">");
    if (!cmn_statusfmt_get_int(threads, "busy", &busy) ||
        !cmn_statusfmt_get_int(threads, "configured", &configured) || configured <= 0) {
        out(p, "-</td></tr>\n</table>\n");
        return;
    }
    int pct = (int)(busy >= configured ? 100 : 100 * busy / configured);
    outf(p, "%lld of %lld (%d%%)<svg class=\"bar\" width=\"120\" height=\"8\" "
            "role=\"img\" aria-label=\"thread saturation\"><rect width=\"120\" height=\"8\" "
            "fill=\"#e0e0e0\"/><rect width=\"%d\" height=\"8\" fill=\"%s\"/></svg>"
            "</td></tr>\n</table>\n",
         busy, configured, pct, pct * 120 / 100, pct >= 90 ? "#c62828" : "#1565c0");
}

static void out_traffic(page_t *p, json_t *doc)
{
    json_t *history = json_object_get(doc, "history");
    static const ctl_svgchart_t rate_chart = {
        .width = 480, .height = 110, .css_class = "chart rate",
        .label = "requests per second, last 10 minutes", .format = format_rate};
    out(p, "<h2>Traffic</h2>\n<div class=\"traffic\">\n<figure>");
    out_chart(p, &rate_chart, json_object_get(history, "requests_per_second"));
    out(p, "<figcaption>Requests per second, last 10 minutes</figcaption></figure>\n<div>");
    out_latency(p, doc);
    out_saturation(p, doc);
    out(p, "</div>\n</div>\n");
}

static int compare_rows(const void *x, const void *y)
{
    const row_t *a = x, *b = y;
    if (a->generation != b->generation)
        return a->generation < b->generation ? -1 : 1;
    return (a->pid > b->pid) - (a->pid < b->pid);
}

/* The children as rows sorted by generation then pid; *n receives the count.
 * Returns NULL (with *n 0) when there are none, or when memory runs out
 * (then p->err is set). */
static row_t *sorted_children(page_t *p, json_t *doc, size_t *n)
{
    json_t *children = json_object_get(doc, "children");
    *n = 0;
    if (!json_is_object(children) || json_object_size(children) == 0)
        return NULL;
    row_t *rows = calloc(json_object_size(children), sizeof *rows);
    if (!rows) {
        p->err = -ENOMEM;
        return NULL;
    }
    const char *key;
    json_t *child;
    json_object_foreach(children, key, child) {
        row_t *r = &rows[(*n)++];
        r->child = child;
        if (!cmn_statusfmt_get_int(child, "generation", &r->generation))
            r->generation = LLONG_MAX;
        if (!cmn_statusfmt_get_int(child, "pid", &r->pid))
            r->pid = strtoll(key, NULL, 10);
    }
    qsort(rows, *n, sizeof *rows, compare_rows);
    return rows;
}

static void out_child_row(page_t *p, json_t *doc, json_t *c, long long pid)
{
    char gen[CELL], age[CELL], req[CELL], act[CELL], conns[CELL], mib[CELL], hb[CELL];
    const char *state = cmn_statusfmt_get_str(c, "state");
    const char *cls = !state ? "" : !strcmp(state, "ready") ? "ready"
                    : !strcmp(state, "starting") ? "starting"
                    : !strcmp(state, "draining") ? "draining" : "";
    outf(p, "<tr><td class=\"n\">%lld</td><td class=\"n\">%s</td><td class=\"%s\">", pid,
         cmn_statusfmt_cell_int(c, "generation", gen), cls);
    out_esc(p, state ? state : "-");
    outf(p, "</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
            "<td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>",
         cmn_statusfmt_cell_duration(c, "uptime", age),
         cmn_statusfmt_cell_count(c, "requests", req),
         cmn_statusfmt_cell_count(c, "concurrent_requests", act),
         cmn_statusfmt_cell_count(c, "active_connections", conns),
         cmn_statusfmt_cell_mib(c, "rss_bytes", mib),
         cmn_statusfmt_cell_ago(doc, c, "last_heartbeat", hb));
    static const ctl_svgchart_t memory_chart = {
        .width = 120, .height = 24, .css_class = "spark memory",
        .label = "resident memory, last 10 minutes", .format = format_mib};
    out(p, "<td>");
    out_chart(p, &memory_chart, json_object_get(c, "memory_trend"));
    out(p, "</td></tr>\n");
}

static void out_children(page_t *p, json_t *doc)
{
    size_t n;
    row_t *rows = sorted_children(p, doc, &n);
    out(p, "<h2>Children</h2>\n<table class=\"children\">\n<tr><th>PID</th><th>Generation</th>"
           "<th>State</th><th>Age</th><th>Requests</th><th>Active</th><th>Connections</th>"
           "<th>Memory (MiB)</th><th>Last heartbeat</th><th>Memory trend</th></tr>\n");
    for (size_t i = 0; i < n; i++)
        out_child_row(p, doc, rows[i].child, rows[i].pid);
    if (!n)
        out(p, "<tr><td colspan=\"10\">no children</td></tr>\n");
    out(p, "</table>\n");
    free(rows);
}

static void out_reloads(page_t *p, json_t *doc)
{
    json_t *reloads = json_object_get(doc, "reloads");
    const char *reason = cmn_statusfmt_get_str(reloads, "last_reason");
    const char *error = cmn_statusfmt_get_str(reloads, "last_error");
    char count[CELL];
    out(p, "<h2>Reloads</h2>\n<table class=\"kv\">\n");
    out_kv(p, "Count", cmn_statusfmt_cell_count(reloads, "count", count));
    out_kv(p, "Last reason", reason ? reason : "-");
    out_kv(p, "Last result", error ? "failed (the previous generation keeps serving)"
                                   : reason ? "succeeded" : "-");
    out(p, "</table>\n");
    if (error) {
        out(p, "<pre class=\"error\">");
        out_esc(p, error);
        out(p, "</pre>\n");
    }
}

/* Any scalar member of "config", in the document's order. */
static void out_config(page_t *p, json_t *doc)
{
    json_t *config = json_object_get(doc, "config");
    const char *key;
    json_t *v;
    char buf[CELL];
    if (!json_is_object(config) || json_object_size(config) == 0)
        return;
    out(p, "<h2>Configuration</h2>\n<table class=\"kv\">\n");
    json_object_foreach(config, key, v) {
        const char *text = json_is_string(v) ? json_string_value(v) : buf;
        if (json_is_integer(v))
            snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
        else if (json_is_real(v))
            snprintf(buf, sizeof buf, "%g", json_real_value(v));
        else if (json_is_boolean(v))
            snprintf(buf, sizeof buf, "%s", json_is_true(v) ? "yes" : "no");
        else if (!json_is_string(v))
            snprintf(buf, sizeof buf, "-");
        out(p, "<tr><th>");
        out_esc(p, key);
        out(p, "</th><td>");
        out_esc(p, text);
        out(p, "</td></tr>\n");
    }
    out(p, "</table>\n");
}

static void out_footer(page_t *p, json_t *doc, int refresh_seconds)
{
    const char *version = cmn_statusfmt_get_str(doc, "spawning_version");
    double now;
    out(p, "<footer>Spawning ");
    out_esc(p, version ? version : "-");
    if (cmn_statusfmt_get_num(doc, "now", &now)) {
        time_t t = (time_t)now;
        struct tm tm;
        char when[CELL];
        if (gmtime_r(&t, &tm) && strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm))
            outf(p, " &middot; as of %s", when);
    }
    if (refresh_seconds > 0)
        outf(p, " &middot; refreshes every %ds", refresh_seconds);
    out(p, "</footer>\n");
}

static void out_head(page_t *p, json_t *doc, int refresh_seconds)
{
    char pid[CELL];
    out(p, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    if (refresh_seconds > 0)
        outf(p, "<meta http-equiv=\"refresh\" content=\"%d\">\n", refresh_seconds);
    outf(p, "<title>Spawning status (pid %s)</title>\n<style>",
         cmn_statusfmt_cell_int(doc, "pid", pid));
    out(p, STYLE);
    out(p, "</style>\n</head>\n<body>\n");
}

char *ctl_status_html(json_t *doc, int refresh_seconds)
{
    page_t p = {CMN_BUF_INIT, 0};
    if (!json_is_object(doc))
        doc = NULL; /* every lookup then misses and shows "-" */
    out_head(&p, doc, refresh_seconds);
    out_header(&p, doc);
    out(&p, "<main>\n");
    out_traffic(&p, doc);
    out_totals(&p, doc);
    out_children(&p, doc);
    out_reloads(&p, doc);
    out_config(&p, doc);
    out(&p, "</main>\n");
    out_footer(&p, doc, refresh_seconds);
    out(&p, "</body>\n</html>\n");
    if (p.err || cmn_buf_append(&p.buf, "", 1) < 0) { /* the NUL */
        cmn_buf_free(&p.buf);
        return NULL;
    }
    return p.buf.data; /* start is 0: nothing was consumed */
}
