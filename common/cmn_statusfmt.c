/* cmn_statusfmt: see cmn_statusfmt.h. */
#include "cmn_statusfmt.h"

#include <stdio.h>
#include <string.h>

/* ---- reading members ---------------------------------------------------- */

bool cmn_statusfmt_get_num(json_t *obj, const char *key, double *v)
{
    json_t *j = json_object_get(obj, key); /* NULL when obj is not an object */
    if (!json_is_number(j))
        return false;
    *v = json_number_value(j);
    return true;
}

bool cmn_statusfmt_get_int(json_t *obj, const char *key, long long *v)
{
    json_t *j = json_object_get(obj, key);
    if (json_is_integer(j)) {
        *v = (long long)json_integer_value(j);
        return true;
    }
    double d;
    if (!cmn_statusfmt_get_num(obj, key, &d) || d != d || d > 9e18 || d < -9e18)
        return false;
    *v = (long long)d;
    return true;
}

const char *cmn_statusfmt_get_str(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key)); /* NULL unless a string */
}

/* ---- formatting numbers ------------------------------------------------- */

void cmn_statusfmt_count(long long v, char *buf, size_t len)
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

void cmn_statusfmt_duration(double secs, char *buf, size_t len)
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

void cmn_statusfmt_bytes(double b, char *buf, size_t len)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (b >= 1024 && u < 4) {
        b /= 1024;
        u++;
    }
    snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", b, units[u]);
}

/* ---- table cells -------------------------------------------------------- */

/* The cells differ only in how they read the member (get_int or get_num) and
 * how they format it: one function per reader, taking the formatter. */
typedef void int_fmt_fn(long long v, char *buf, size_t len);
typedef void num_fmt_fn(double v, char *buf, size_t len);

static const char *cell_of_int(json_t *obj, const char *key, char *buf, int_fmt_fn *fmt)
{
    long long v;
    if (!cmn_statusfmt_get_int(obj, key, &v))
        return "-";
    fmt(v, buf, CMN_STATUSFMT_CELL);
    return buf;
}

static const char *cell_of_num(json_t *obj, const char *key, char *buf, num_fmt_fn *fmt)
{
    double v;
    if (!cmn_statusfmt_get_num(obj, key, &v))
        return "-";
    fmt(v, buf, CMN_STATUSFMT_CELL);
    return buf;
}

static void fmt_plain_int(long long v, char *buf, size_t len)
{
    snprintf(buf, len, "%lld", v);
}

static void fmt_mib(double v, char *buf, size_t len)
{
    snprintf(buf, len, "%.1f", v / (1024.0 * 1024.0));
}

static void fmt_one_decimal(double v, char *buf, size_t len)
{
    snprintf(buf, len, "%.1f", v);
}

const char *cmn_statusfmt_cell_int(json_t *obj, const char *key, char buf[CMN_STATUSFMT_CELL])
{
    return cell_of_int(obj, key, buf, fmt_plain_int);
}

const char *cmn_statusfmt_cell_count(json_t *obj, const char *key, char buf[CMN_STATUSFMT_CELL])
{
    return cell_of_int(obj, key, buf, cmn_statusfmt_count);
}

const char *cmn_statusfmt_cell_duration(json_t *obj, const char *key,
                                        char buf[CMN_STATUSFMT_CELL])
{
    return cell_of_num(obj, key, buf, cmn_statusfmt_duration);
}

const char *cmn_statusfmt_cell_mib(json_t *obj, const char *key, char buf[CMN_STATUSFMT_CELL])
{
    return cell_of_num(obj, key, buf, fmt_mib);
}

const char *cmn_statusfmt_cell_rate(json_t *obj, const char *key, char buf[CMN_STATUSFMT_CELL])
{
    return cell_of_num(obj, key, buf, fmt_one_decimal);
}

const char *cmn_statusfmt_cell_bytes(json_t *obj, const char *key, char buf[CMN_STATUSFMT_CELL])
{
    return cell_of_num(obj, key, buf, cmn_statusfmt_bytes);
}

void cmn_statusfmt_closed(json_t *doc, char *buf, size_t len)
{
    json_t *closed = json_object_get(json_object_get(doc, "connections"), "closed");
    const char *reason;
    json_t *n;
    size_t used = 0;
    buf[0] = '\0';
    if (json_is_object(closed)) {
        json_object_foreach(closed, reason, n) {
            if (!json_is_integer(n) || json_integer_value(n) == 0 || used + 1 >= len)
                continue;
            char count[32];
            cmn_statusfmt_count(json_integer_value(n), count, sizeof count);
            int w = snprintf(buf + used, len - used, "%s%s %s", used ? ", " : "", reason, count);
            used = w < 0 ? used : (size_t)w >= len - used ? len - 1 : used + (size_t)w;
        }
    }
    if (used == 0)
        snprintf(buf, len, "-");
}

const char *cmn_statusfmt_cell_ago(json_t *doc, json_t *obj, const char *key,
                                   char buf[CMN_STATUSFMT_CELL])
{
    double now, then;
    if (!cmn_statusfmt_get_num(doc, "now", &now) || !cmn_statusfmt_get_num(obj, key, &then))
        return "-";
    double ago = now - then > 0 ? now - then : 0;
    if (ago < 60)
        snprintf(buf, CMN_STATUSFMT_CELL, "%.1fs ago", ago);
    else {
        cmn_statusfmt_duration(ago, buf, CMN_STATUSFMT_CELL);
        strncat(buf, " ago", CMN_STATUSFMT_CELL - strlen(buf) - 1);
    }
    return buf;
}
