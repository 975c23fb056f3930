/* ctl_svgchart: a small line chart as inline SVG, for the status page.
 *
 * The page carries no scripts and no external assets, so a trend (a JSON
 * array of numbers, oldest first: ctl_history.h) is drawn as one <svg>
 * element: a filled area under a polyline, scaled so the largest value
 * touches the top, with the largest value written in the corner through a
 * caller-chosen formatter. Only numbers reach the markup (non-numbers in
 * the array are skipped), so nothing in it needs escaping. */
#ifndef CTL_SVGCHART_H
#define CTL_SVGCHART_H

#include "cmn_buf.h"

#include <jansson.h>

typedef struct {
    int width, height;   /* the drawing's size in CSS pixels */
    const char *css_class; /* the <svg> element's class (styled by the page) */
    const char *label;   /* aria-label and <title>: what the chart shows */
    /* Formats a value for the corner label (the maximum); NULL: "%g". */
    void (*format)(double value, char *out, size_t size);
} ctl_svgchart_t;

/* Appends the chart for `points` to buf. Fewer than two points draw an
 * empty frame with "collecting data", so the page's shape does not jump.
 * Returns 0 or -ENOMEM. */
int ctl_svgchart_append(cmn_buf_t *buf, const ctl_svgchart_t *chart, json_t *points);

#endif
