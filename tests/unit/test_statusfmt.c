/* Unit tests for common/cmn_statusfmt.h: reading the status document and
 * formatting its numbers for people. */
#include "cmn_statusfmt.h"
#include "unit.h"

#include <limits.h>
#include <math.h>

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *doc = json_loads(text, 0, &e);
    if (!doc)
        printf("  JSON: %s (line %d)\n", e.text, e.line);
    return doc;
}

/* ---- formatting numbers ------------------------------------------------- */

static const struct {
    long long v;
    const char *want;
} COUNTS[] = {
    {0, "0"},
    {7, "7"},
    {999, "999"},
    {1000, "1,000"},
    {12345, "12,345"},
    {123456, "123,456"},
    {1234567, "1,234,567"},
    {1000000000000LL, "1,000,000,000,000"},
    {-1, "-1"},
    {-999, "-999"},
    {-1000, "-1,000"},
    {-1234567, "-1,234,567"},
    {LLONG_MAX, "9,223,372,036,854,775,807"},
    {LLONG_MIN, "-9,223,372,036,854,775,808"},
};

/* Every unit boundary, and what lies outside the range. */
static const struct {
    double secs;
    const char *want;
} DURATIONS[] = {
    {0, "0s"},
    {0.9, "0s"},
    {45, "45s"},
    {59.99, "59s"},
    {60, "1m 00s"},
    {123, "2m 03s"},
    {3599, "59m 59s"},
    {3600, "1h 00m 00s"},
    {3723.4, "1h 02m 03s"},
    {86399, "23h 59m 59s"},
    {86400, "1d 00h 00m"},
    {3 * 86400 + 4 * 3600 + 5 * 60 + 59, "3d 04h 05m"},
    {400 * 86400.0, "400d 00h 00m"},
    {-5, "0s"},
    {-INFINITY, "0s"},
    {NAN, "0s"},
    /* 1e15 s = 11574074074 days, 1 hour, 46 minutes (and 40 s): the cap */
    {1e15, "11574074074d 01h 46m"},
    {1e300, "11574074074d 01h 46m"},
    {INFINITY, "11574074074d 01h 46m"},
};

static const struct {
    double b;
    const char *want;
} BYTES[] = {
    {0, "0 B"},
    {512, "512 B"},
    {1023, "1023 B"},
    {1024, "1.0 KiB"},
    {123456, "120.6 KiB"},
    {1048575, "1024.0 KiB"}, /* rounds, stays in KiB */
    {1048576, "1.0 MiB"},
    {31457280, "30.0 MiB"},
    {1073741824.0, "1.0 GiB"},
    {1.2 * 1073741824.0, "1.2 GiB"},
    {1099511627776.0, "1.0 TiB"},
    {3 * 1099511627776.0, "3.0 TiB"},
    {1024 * 1099511627776.0, "1024.0 TiB"}, /* no PiB */
    {-5, "-5 B"},
};

#define N(a) (sizeof(a) / sizeof *(a))

TEST(count_groups_thousands_incl_negative_and_extremes)
{
    char b[32];
    for (size_t i = 0; i < N(COUNTS); i++) {
        cmn_statusfmt_count(COUNTS[i].v, b, sizeof b);
        CHECK_EQ_STR(b, COUNTS[i].want);
    }
}

TEST(count_truncates_to_the_buffer)
{
    char b[8];
    memset(b, 'x', sizeof b);
    cmn_statusfmt_count(1234567, b, 4);
    CHECK_EQ_STR(b, "1,2");
    CHECK(b[4] == 'x'); /* nothing written past len */
    cmn_statusfmt_count(1234567, b, 1);
    CHECK_EQ_STR(b, "");
    cmn_statusfmt_count(-5, b, 2);
    CHECK_EQ_STR(b, "-");
}

TEST(duration_at_each_unit_boundary)
{
    char b[CMN_STATUSFMT_CELL];
    for (size_t i = 0; i < N(DURATIONS); i++) {
        cmn_statusfmt_duration(DURATIONS[i].secs, b, sizeof b);
        CHECK_EQ_STR(b, DURATIONS[i].want);
    }
}

TEST(bytes_at_each_unit)
{
    char b[CMN_STATUSFMT_CELL];
    for (size_t i = 0; i < N(BYTES); i++) {
        cmn_statusfmt_bytes(BYTES[i].b, b, sizeof b);
        CHECK_EQ_STR(b, BYTES[i].want);
    }
}

TEST(bytes_truncate_to_the_buffer)
{
    char b[8];
    memset(b, 'x', sizeof b);
    cmn_statusfmt_bytes(31457280, b, 5);
    CHECK_EQ_STR(b, "30.0");
    CHECK(b[5] == 'x');
}

/* ---- reading members ---------------------------------------------------- */

TEST(readers_take_the_right_types)
{
    json_t *doc = parse("{\"i\": 42, \"r\": 12.7, \"neg\": -3.9, \"big\": 1e19, \"s\": \"x<y\","
                        " \"t\": true, \"n\": null, \"str_num\": \"12\", \"o\": {}}");
    double d = -1;
    long long ll = -1;
    CHECK(cmn_statusfmt_get_num(doc, "i", &d) && d == 42);
    CHECK(cmn_statusfmt_get_num(doc, "r", &d) && d == 12.7);
    CHECK(cmn_statusfmt_get_int(doc, "i", &ll) && ll == 42);
    CHECK(cmn_statusfmt_get_int(doc, "r", &ll) && ll == 12);   /* truncated */
    CHECK(cmn_statusfmt_get_int(doc, "neg", &ll) && ll == -3); /* toward zero */
    ll = 7;
    d = 7;
    CHECK(!cmn_statusfmt_get_int(doc, "big", &ll) && ll == 7); /* out of range */
    CHECK(!cmn_statusfmt_get_num(doc, "s", &d) && d == 7);
    CHECK(!cmn_statusfmt_get_num(doc, "t", &d));
    CHECK(!cmn_statusfmt_get_num(doc, "n", &d));
    CHECK(!cmn_statusfmt_get_num(doc, "str_num", &d));
    CHECK(!cmn_statusfmt_get_int(doc, "o", &ll));
    CHECK(!cmn_statusfmt_get_int(doc, "absent", &ll) && ll == 7);
    CHECK_EQ_STR(cmn_statusfmt_get_str(doc, "s"), "x<y"); /* not escaped */
    CHECK(cmn_statusfmt_get_str(doc, "i") == NULL);
    CHECK(cmn_statusfmt_get_str(doc, "n") == NULL);
    CHECK(cmn_statusfmt_get_str(doc, "absent") == NULL);
    json_decref(doc);
}

TEST(readers_accept_no_object)
{
    json_t *arr = parse("[1, 2]");
    double d;
    long long ll;
    CHECK(!cmn_statusfmt_get_num(NULL, "x", &d));
    CHECK(!cmn_statusfmt_get_int(NULL, "x", &ll));
    CHECK(cmn_statusfmt_get_str(NULL, "x") == NULL);
    CHECK(!cmn_statusfmt_get_num(arr, "x", &d));
    CHECK(cmn_statusfmt_get_str(arr, "x") == NULL);
    json_decref(arr);
}

/* ---- table cells -------------------------------------------------------- */

TEST(cells_format_present_members_into_buf)
{
    json_t *doc = parse("{\"pid\": 1234567, \"gen\": 3.0, \"requests\": 1520300,"
                        " \"uptime\": 3723.4, \"rss\": 31457280, \"rate\": 50.34,"
                        " \"sent\": 123456, \"neg\": -4200}");
    char b[CMN_STATUSFMT_CELL];
    const char *r = cmn_statusfmt_cell_int(doc, "pid", b);
    CHECK(r == b); /* the buffer, so callers can tell "-" from a value */
    CHECK_EQ_STR(r, "1234567");
    CHECK_EQ_STR(cmn_statusfmt_cell_int(doc, "gen", b), "3");
    CHECK_EQ_STR(cmn_statusfmt_cell_int(doc, "neg", b), "-4200");
    CHECK(cmn_statusfmt_cell_count(doc, "requests", b) == b);
    CHECK_EQ_STR(b, "1,520,300");
    CHECK_EQ_STR(cmn_statusfmt_cell_count(doc, "neg", b), "-4,200");
    CHECK_EQ_STR(cmn_statusfmt_cell_count(doc, "gen", b), "3");
    CHECK(cmn_statusfmt_cell_duration(doc, "uptime", b) == b);
    CHECK_EQ_STR(b, "1h 02m 03s");
    CHECK(cmn_statusfmt_cell_mib(doc, "rss", b) == b);
    CHECK_EQ_STR(b, "30.0");
    CHECK_EQ_STR(cmn_statusfmt_cell_mib(doc, "sent", b), "0.1");
    CHECK(cmn_statusfmt_cell_rate(doc, "rate", b) == b);
    CHECK_EQ_STR(b, "50.3");
    CHECK_EQ_STR(cmn_statusfmt_cell_rate(doc, "pid", b), "1234567.0");
    CHECK(cmn_statusfmt_cell_bytes(doc, "sent", b) == b);
    CHECK_EQ_STR(b, "120.6 KiB");
    CHECK_EQ_STR(cmn_statusfmt_cell_bytes(doc, "rss", b), "30.0 MiB");
    json_decref(doc);
}

/* Every cell, for a member that is absent, null, a string, a boolean, an
 * object, and for no object at all: "-", and buf left alone. */
TEST(cells_show_dash_for_missing_or_wrong_type)
{
    json_t *doc = parse("{\"n\": null, \"s\": \"12\", \"t\": true, \"o\": {\"a\": 1},"
                        " \"big\": 1e19}");
    const char *keys[] = {"absent", "n", "s", "t", "o"};
    json_t *objs[] = {doc, NULL};
    char b[CMN_STATUSFMT_CELL];
    for (size_t o = 0; o < N(objs); o++) {
        for (size_t k = 0; k < N(keys); k++) {
            strcpy(b, "untouched");
            json_t *obj = objs[o];
            CHECK_EQ_STR(cmn_statusfmt_cell_int(obj, keys[k], b), "-");
            CHECK_EQ_STR(cmn_statusfmt_cell_count(obj, keys[k], b), "-");
            CHECK_EQ_STR(cmn_statusfmt_cell_duration(obj, keys[k], b), "-");
            CHECK_EQ_STR(cmn_statusfmt_cell_mib(obj, keys[k], b), "-");
            CHECK_EQ_STR(cmn_statusfmt_cell_rate(obj, keys[k], b), "-");
            CHECK_EQ_STR(cmn_statusfmt_cell_bytes(obj, keys[k], b), "-");
            CHECK_EQ_STR(cmn_statusfmt_cell_ago(doc, obj, keys[k], b), "-");
            CHECK_EQ_STR(b, "untouched");
        }
    }
    /* an integer cell of a number out of long long's range */
    CHECK_EQ_STR(cmn_statusfmt_cell_int(doc, "big", b), "-");
    CHECK_EQ_STR(cmn_statusfmt_cell_count(doc, "big", b), "-");
    CHECK_EQ_STR(cmn_statusfmt_cell_bytes(doc, "big", b), "9094947.0 TiB");
    json_decref(doc);
}

TEST(cell_ago)
{
    json_t *doc = parse("{\"now\": 1000.0, \"child\": {\"hb\": 999.7, \"late\": 1005,"
                        " \"same\": 1000, \"almost\": 940.05, \"minute\": 940,"
                        " \"long\": -2723.4, \"days\": -171800, \"s\": \"999\"}}");
    json_t *child = json_object_get(doc, "child");
    json_t *no_now = parse("{\"then\": 5}");
    char b[CMN_STATUSFMT_CELL];
    CHECK(cmn_statusfmt_cell_ago(doc, child, "hb", b) == b);
    CHECK_EQ_STR(b, "0.3s ago");
    CHECK_EQ_STR(cmn_statusfmt_cell_ago(doc, child, "late", b), "0.0s ago"); /* clock skew */
    CHECK_EQ_STR(cmn_statusfmt_cell_ago(doc, child, "same", b), "0.0s ago");
    CHECK_EQ_STR(cmn_statusfmt_cell_ago(doc, child, "almost", b), "60.0s ago"); /* 59.95 */
    CHECK_EQ_STR(cmn_statusfmt_cell_ago(doc, child, "minute", b), "1m 00s ago");
    CHECK_EQ_STR(cmn_statusfmt_cell_ago(doc, child, "long", b), "1h 02m 03s ago");
    CHECK_EQ_STR(cmn_statusfmt_cell_ago(doc, child, "days", b), "2d 00h 00m ago");
    CHECK_EQ_STR(cmn_statusfmt_cell_ago(doc, child, "s", b), "-");
    CHECK_EQ_STR(cmn_statusfmt_cell_ago(no_now, no_now, "then", b), "-"); /* no "now" */
    CHECK_EQ_STR(cmn_statusfmt_cell_ago(NULL, child, "hb", b), "-");
    json_decref(no_now);
    json_decref(doc);
}

TEST(closed_lists_the_reasons_that_happened_in_order)
{
    json_t *doc = parse("{\"connections\": {\"closed\": {\"none\": 0, \"finished\": 1520,"
                        " \"idle\": 3, \"malformed\": 1, \"odd\": \"7\", \"too_large\": 0}}}");
    json_t *quiet = parse("{\"connections\": {\"closed\": {\"finished\": 0}}}");
    json_t *old = parse("{\"connections\": {\"open\": 2}}");
    char b[128];
    cmn_statusfmt_closed(doc, b, sizeof b);
    CHECK_EQ_STR(b, "finished 1,520, idle 3, malformed 1");
    cmn_statusfmt_closed(quiet, b, sizeof b);
    CHECK_EQ_STR(b, "-");
    cmn_statusfmt_closed(old, b, sizeof b); /* a controller from before the counts */
    CHECK_EQ_STR(b, "-");
    cmn_statusfmt_closed(NULL, b, sizeof b);
    CHECK_EQ_STR(b, "-");
    char small[12];
    cmn_statusfmt_closed(doc, small, sizeof small);
    CHECK_EQ_STR(small, "finished 1,");
    json_decref(old);
    json_decref(quiet);
    json_decref(doc);
}

int main(int argc, char **argv)
{
    unit_init(argc, argv);
    RUN(count_groups_thousands_incl_negative_and_extremes);
    RUN(count_truncates_to_the_buffer);
    RUN(duration_at_each_unit_boundary);
    RUN(bytes_at_each_unit);
    RUN(bytes_truncate_to_the_buffer);
    RUN(readers_take_the_right_types);
    RUN(readers_accept_no_object);
    RUN(cells_format_present_members_into_buf);
    RUN(cells_show_dash_for_missing_or_wrong_type);
    RUN(cell_ago);
    RUN(closed_lists_the_reasons_that_happened_in_order);
    return unit_finish();
}
