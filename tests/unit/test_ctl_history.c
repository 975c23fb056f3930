/* Unit tests for ctl_history: trends a step apart, the request rate over
 * the last minute, and the JSON the status page draws. */
#include "ctl_history.h"
#include "unit.h"

#include <math.h>

static double point(json_t *arr, size_t i) { return json_number_value(json_array_get(arr, i)); }

TEST(trend_takes_a_point_per_step)
{
    ctl_trend_t t = {0};
    CHECK(ctl_trend_offer(&t, 100.0, 1) == 1);
    CHECK(ctl_trend_offer(&t, 101.0, 2) == 0); /* too early */
    CHECK(ctl_trend_offer(&t, 100.0 + CTL_TREND_STEP, 3) == 1);
    json_t *arr = ctl_trend_json(&t);
    CHECK(json_array_size(arr) == 2);
    CHECK(point(arr, 0) == 1 && point(arr, 1) == 3);
    json_decref(arr);
}

TEST(trend_keeps_the_newest_points)
{
    ctl_trend_t t = {0};
    for (int i = 0; i < CTL_TREND_POINTS + 7; i++)
        CHECK(ctl_trend_offer(&t, i * CTL_TREND_STEP, i) == 1);
    json_t *arr = ctl_trend_json(&t);
    CHECK(json_array_size(arr) == CTL_TREND_POINTS);
    CHECK(point(arr, 0) == 7);
    CHECK(point(arr, CTL_TREND_POINTS - 1) == CTL_TREND_POINTS + 6);
    json_decref(arr);
}

TEST(rate_over_the_last_minute)
{
    ctl_history_t h;
    ctl_history_init(&h);
    CHECK(ctl_history_rate(&h) == 0);
    /* 100 requests a second for 30 s, then 10 a second for 90 s: the last
     * minute saw only the slow part. */
    uint64_t total = 0;
    for (int s = 0; s <= 120; s++) {
        ctl_history_sample(&h, 1000.0 + s, total);
        total += s < 30 ? 100 : 10;
    }
    CHECK(fabs(ctl_history_rate(&h) - 10.0) < 0.01);
}

TEST(rate_points_per_step)
{
    ctl_history_t h;
    ctl_history_init(&h);
    uint64_t total = 0;
    for (int s = 0; s <= 20; s++) {
        ctl_history_sample(&h, 50.0 + s, total);
        total += s < 10 ? 4 : 8; /* 4/s for 10 s, then 8/s */
    }
    json_t *doc = ctl_history_json(&h);
    json_t *arr = json_object_get(doc, "requests_per_second");
    CHECK(json_number_value(json_object_get(doc, "step_seconds")) == CTL_TREND_STEP);
    CHECK(json_array_size(arr) == 4);
    CHECK(point(arr, 0) == 4 && point(arr, 1) == 4 && point(arr, 2) == 8 && point(arr, 3) == 8);
    json_decref(doc);
}

TEST(total_going_down_is_no_negative_rate)
{
    ctl_history_t h;
    ctl_history_init(&h);
    ctl_history_sample(&h, 10, 500);
    ctl_history_sample(&h, 16, 100);
    CHECK(ctl_history_rate(&h) == 0);
    json_t *doc = ctl_history_json(&h);
    CHECK(point(json_object_get(doc, "requests_per_second"), 0) == 0);
    json_decref(doc);
}

int main(int argc, char **argv)
{
    unit_init(argc, argv);
    RUN(trend_takes_a_point_per_step);
    RUN(trend_keeps_the_newest_points);
    RUN(rate_over_the_last_minute);
    RUN(rate_points_per_step);
    RUN(total_going_down_is_no_negative_rate);
    return unit_finish();
}
