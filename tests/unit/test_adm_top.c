/* Unit tests for spawnctl top's pieces: the text sparkline and one frame. */
#include "adm_spark.h"
#include "adm_top.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>

TEST(spark_scales_to_the_tallest)
{
    json_t *points = json_pack("[i,i,i,i]", 0, 7, 14, 3);
    char out[64];
    CHECK(adm_spark(points, 10, false, out, sizeof out) == 4);
    CHECK(strcmp(out, "_=#:") == 0);
    CHECK(adm_spark(points, 10, true, out, sizeof out) == 4);
    CHECK(strcmp(out, "\u2581\u2585\u2588\u2583") == 0);
    json_decref(points);
}

TEST(spark_keeps_the_newest_and_skips_non_numbers)
{
    json_t *points = json_pack("[i,i,s,i,n,i]", 100, 1, "x", 2, 4);
    char out[64];
    CHECK(adm_spark(points, 3, false, out, sizeof out) == 3);
    CHECK(strcmp(out, ":=#") == 0); /* 1, 2, 4: the 100 is off the left edge */
    json_decref(points);
}

TEST(spark_of_nothing_and_of_zeros)
{
    char out[16] = "junk";
    CHECK(adm_spark(NULL, 10, false, out, sizeof out) == 0);
    CHECK(out[0] == '\0');
    json_t *zeros = json_pack("[i,i]", 0, 0);
    CHECK(adm_spark(zeros, 10, false, out, sizeof out) == 2);
    CHECK(strcmp(out, "__") == 0);
    json_decref(zeros);
}

TEST(spark_stops_at_the_buffer)
{
    json_t *points = json_pack("[i,i,i,i]", 1, 2, 3, 4);
    char out[7]; /* two UTF-8 bars and the NUL */
    CHECK(adm_spark(points, 10, true, out, sizeof out) == 2);
    CHECK(strlen(out) == 6);
    json_decref(points);
}

/* The frame for `doc`, as a string to free. */
static char *frame_of(json_t *doc, const char *error)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    adm_top_frame(mem, doc, error, false);
    fclose(mem);
    return text;
}

TEST(frame_shows_rate_latency_threads_children_and_memory)
{
    json_t *doc = json_pack(
        "{s:i, s:f, s:i, s:i, s:i, s:i, s:f, s:i, s:i, s:{s:[i,i,i]}, s:{s:f, s:f, s:f}, "
        "s:{s:i, s:i}, s:{s:{s:i, s:i, s:s, s:I, s:[i,i]}}}",
        "pid", 4242, "uptime", 65.0, "generation", 3, "active_children_count", 1,
        "configured_children_count", 1, "requests", 12345, "requests_per_second", 99.5,
        "concurrent_requests", 2, "responses_5xx", 7, "history", "requests_per_second", 10,
        20, 40, "latency", "p50", 0.002, "p90", 0.0155, "p99", 0.3, "threads", "busy", 2,
        "configured", 8, "children", "4243", "pid", 4243, "generation", 3, "state", "ready",
        "rss_bytes", (json_int_t)(30 << 20), "memory_trend", 10 << 20, 30 << 20);
    char *text = frame_of(doc, NULL);
    CHECK(strstr(text, "spawnctl top - ") == text);
    CHECK(strstr(text, "pid 4242, up 1m 05s, generation 3, 1 of 1 children active") != NULL);
    CHECK(strstr(text, "12,345 total, 99.5/s, 2 in flight, 7 5xx") != NULL);
    CHECK(strstr(text, "rate       :=#\n") != NULL);
    CHECK(strstr(text, "latency    p50 2.00 ms, p90 15.5 ms, p99 300.0 ms") != NULL);
    CHECK(strstr(text, "threads    2 of 8 busy (25%)") != NULL);
    CHECK(strstr(text, "PID") != NULL && strstr(text, "ready") != NULL);
    CHECK(strstr(text, "     4243      30.0 MiB  :#") != NULL);
    free(text);
    json_decref(doc);
}

TEST(frame_of_an_unreachable_controller)
{
    char *text = frame_of(NULL, "connection refused");
    CHECK(strstr(text, "the controller does not answer: connection refused") != NULL);
    CHECK(strstr(text, "latency") == NULL);
    free(text);
}

TEST(frame_of_a_sparse_document)
{
    json_t *doc = json_object();
    char *text = frame_of(doc, NULL);
    CHECK(strstr(text, "rate       (collecting data)") != NULL);
    CHECK(strstr(text, "latency    p50 -, p90 -, p99 -") != NULL);
    CHECK(strstr(text, "threads    -") != NULL);
    CHECK(strstr(text, "no children") != NULL);
    free(text);
    json_decref(doc);
}

int main(int argc, char **argv)
{
    unit_init(argc, argv);
    RUN(spark_scales_to_the_tallest);
    RUN(spark_keeps_the_newest_and_skips_non_numbers);
    RUN(spark_of_nothing_and_of_zeros);
    RUN(spark_stops_at_the_buffer);
    RUN(frame_shows_rate_latency_threads_children_and_memory);
    RUN(frame_of_an_unreachable_controller);
    RUN(frame_of_a_sparse_document);
    return unit_finish();
}
