/* ctl_svgchart: see ctl_svgchart.h. */
#include "ctl_svgchart.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define PAD 2 /* pixels kept free at the top and bottom, so the line shows whole */

/* Appends formatted text; the first failure sticks in *err. */
__attribute__((format(printf, 3, 4))) static void put(cmn_buf_t *buf, int *err, const char *fmt,
                                                      ...)
{
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (*err || n < 0)
        return;
    if ((size_t)n >= sizeof text)
        n = sizeof text - 1; /* never: every piece here is short */
    if (cmn_buf_append(buf, text, (size_t)n) < 0)
        *err = -ENOMEM;
}

/* The numbers of the array, in order; *n receives how many. */
static double *numbers_of(json_t *points, size_t *n)
{
    *n = 0;
    size_t size = json_array_size(points);
    double *v = malloc((size ? size : 1) * sizeof *v);
    if (!v)
        return NULL;
    for (size_t i = 0; i < size; i++) {
        json_t *p = json_array_get(points, i);
        if (json_is_number(p))
            v[(*n)++] = json_number_value(p);
    }
    return v;
}

static void format_default(double value, char *out, size_t size)
{
    snprintf(out, size, "%g", value);
}

static void put_open(cmn_buf_t *buf, int *err, const ctl_svgchart_t *c)
{
    put(buf, err,
        "<svg class=\"%s\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
        "xmlns=\"http://www.w3.org/2000/svg\" aria-label=\"%s\"><title>%s</title>",
        c->css_class, c->width, c->height, c->width, c->height, c->label, c->label);
    put(buf, err, "<rect x=\"0.5\" y=\"0.5\" width=\"%d\" height=\"%d\" fill=\"#fff\" "
                  "stroke=\"#ddd\"/>", c->width - 1, c->height - 1);
}

/* x and y of point i of n, values scaled so `top` is at the top. */
static void coords(const ctl_svgchart_t *c, size_t i, size_t n, double value, double top,
                   double *x, double *y)
{
    *x = (double)i * (c->width - 1) / (double)(n - 1);
    double span = c->height - 2 * PAD;
    *y = c->height - PAD - (top > 0 ? value / top * span : 0);
}

static void put_line(cmn_buf_t *buf, int *err, const ctl_svgchart_t *c, const double *v,
                     size_t n, double top)
{
    double x, y;
    put(buf, err, "<polygon fill=\"#bbdefb\" points=\"0,%d", c->height - PAD);
    for (size_t i = 0; i < n; i++) {
        coords(c, i, n, v[i], top, &x, &y);
        put(buf, err, " %.1f,%.1f", x, y);
    }
    put(buf, err, " %d,%d\"/><polyline fill=\"none\" stroke=\"#1565c0\" stroke-width=\"1.5\" "
                  "points=\"", c->width - 1, c->height - PAD);
    for (size_t i = 0; i < n; i++) {
        coords(c, i, n, v[i], top, &x, &y);
        put(buf, err, "%s%.1f,%.1f", i ? " " : "", x, y);
    }
    put(buf, err, "\"/>");
}

int ctl_svgchart_append(cmn_buf_t *buf, const ctl_svgchart_t *chart, json_t *points)
{
    int err = 0;
    size_t n;
    double *v = numbers_of(points, &n);
    if (!v)
        return -ENOMEM;
    put_open(buf, &err, chart);
    if (n < 2) {
        put(buf, &err, "<text x=\"6\" y=\"%d\" font-size=\"11\" fill=\"#999\">collecting data"
                       "</text></svg>", chart->height / 2 + 4);
        free(v);
        return err;
    }
    double top = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] > top)
            top = v[i];
    put_line(buf, &err, chart, v, n, top);
    char label[64];
    (chart->format ? chart->format : format_default)(top, label, sizeof label);
    put(buf, &err, "<text x=\"4\" y=\"11\" font-size=\"10\" fill=\"#555\">max %s</text></svg>",
        label);
    free(v);
    return err;
}
