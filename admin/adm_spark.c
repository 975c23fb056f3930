/* adm_spark: see adm_spark.h. */
#include "adm_spark.h"

#include <string.h>

static const char *const BARS_UTF8[8] = {"\u2581", "\u2582", "\u2583", "\u2584",
                                         "\u2585", "\u2586", "\u2587", "\u2588"};
static const char *const BARS_ASCII[8] = {"_", ".", ":", "-", "=", "+", "*", "#"};

int adm_spark(json_t *points, int width, bool utf8, char *out, size_t size)
{
    size_t total = json_array_size(points), first = 0, numbers = 0;
    /* Walk back from the newest until `width` numbers are covered. */
    for (size_t i = total; i > 0 && (int)numbers < width; i--) {
        if (json_is_number(json_array_get(points, i - 1))) {
            numbers++;
            first = i - 1;
        }
    }
    double top = 0;
    for (size_t i = first; i < total; i++) {
        json_t *p = json_array_get(points, i);
        if (json_is_number(p) && json_number_value(p) > top)
            top = json_number_value(p);
    }
    size_t used = 0;
    int bars = 0;
    if (size)
        out[0] = '\0';
    for (size_t i = first; numbers && i < total; i++) {
        json_t *p = json_array_get(points, i);
        if (!json_is_number(p))
            continue;
        double v = json_number_value(p);
        int level = top > 0 && v > 0 ? (int)(v / top * 7.0 + 0.5) : 0;
        const char *bar = (utf8 ? BARS_UTF8 : BARS_ASCII)[level < 0 ? 0 : level > 7 ? 7 : level];
        size_t len = strlen(bar);
        if (used + len + 1 > size)
            break;
        memcpy(out + used, bar, len + 1);
        used += len;
        bars++;
    }
    return bars;
}
