/* Unit tests for controller/ctl_status_html.h: the status page for people. */
#include "ctl_status_html.h"
#include "unit.h"

static const char SAMPLE[] =
    "{\"version\": 1, \"pid\": 1234, \"started_at\": 1763766000.5, \"now\": 1763766100.0,"
    " \"uptime\": 3723.4, \"spawning_version\": \"0.1.0\","
    " \"listen\": [\"http://127.0.0.1:8080\", \"http://[::1]:8080\"],"
    " \"generation\": 3, \"pending_generation\": 0,"
    " \"active_children_count\": 2, \"killed_children_count\": 0,"
    " \"configured_children_count\": 2, \"concurrent_requests\": 1,"
    " \"config\": {\"host\": \"127.0.0.1\", \"port\": 8080, \"processes\": 2, \"threads\": 4,"
    "   \"app\": \"tests.apps.hello:app&<b>\", \"reload\": \"off\"},"
    " \"children\": {"
    "   \"1250\": {\"pid\": 1250, \"active\": true, \"uptime\": 80.2, \"generation\": 3,"
    "     \"state\": \"ready\", \"requests\": 1520, \"concurrent_requests\": 1,"
    "     \"active_connections\": 12, \"rss_bytes\": 31457280, \"last_heartbeat\": 1763766099.7},"
    "   \"1240\": {\"pid\": 1240, \"active\": true, \"uptime\": 125, \"generation\": 3,"
    "     \"state\": \"ready\", \"requests\": 1500, \"concurrent_requests\": 0,"
    "     \"active_connections\": 3, \"rss_bytes\": 33554432, \"last_heartbeat\": 1763766098.0},"
    "   \"1100\": {\"pid\": 1100, \"active\": false, \"uptime\": 900, \"generation\": 2,"
    "     \"state\": \"draining\", \"requests\": 7, \"concurrent_requests\": 0,"
    "     \"active_connections\": 0, \"rss_bytes\": 1048576, \"last_heartbeat\": 1763765980.0}},"
    " \"requests\": 3020, \"requests_per_second\": 50.34, \"responses_5xx\": 2,"
    " \"bytes_sent\": 123456,"
    " \"connections\": {\"open\": 15, \"idle\": 14, \"closed\": {\"none\": 0,"
    "   \"finished\": 1520, \"idle\": 3, \"malformed\": 1, \"tls_failed\": 0}},"
    " \"reloads\": {\"count\": 2, \"last_reason\": \"SIGHUP\", \"last_error\": null}}";

static json_t *sample(void)
{
    json_error_t e;
    json_t *doc = json_loads(SAMPLE, 0, &e);
    if (!doc)
        printf("  sample JSON: %s (line %d)\n", e.text, e.line);
    return doc;
}

/* Checks that `needle` occurs in the page; prints it when it does not. */
static void expect_has(const char *page, const char *needle, const char *file, int line)
{
    if (!page || !strstr(page, needle))
        unit_fail(file, line, "page lacks \"%s\"", needle);
}
#define HAS(page, needle) expect_has((page), (needle), __FILE__, __LINE__)

static void expect_lacks(const char *page, const char *needle, const char *file, int line)
{
    if (page && strstr(page, needle))
        unit_fail(file, line, "page contains \"%s\"", needle);
}
#define LACKS(page, needle) expect_lacks((page), (needle), __FILE__, __LINE__)

/* Position of needle in page, or -1. */
static long at(const char *page, const char *needle)
{
    const char *s = page ? strstr(page, needle) : NULL;
    return s ? s - page : -1;
}

TEST(complete_page_with_refresh)
{
    json_t *doc = sample();
    char *page = ctl_status_html(doc, 5);
    CHECK(page != NULL);
    CHECK(page && strncmp(page, "<!DOCTYPE html>\n<html", 21) == 0);
    HAS(page, "<meta http-equiv=\"refresh\" content=\"5\">");
    HAS(page, "<meta charset=\"utf-8\">");
    HAS(page, "<style>");
    HAS(page, "</body>\n</html>\n");
    LACKS(page, "<script");
    LACKS(page, "<link");
    LACKS(page, " src=");
    free(page);
    json_decref(doc);
}

TEST(no_refresh_when_zero)
{
    json_t *doc = sample();
    char *page = ctl_status_html(doc, 0);
    LACKS(page, "http-equiv=\"refresh\"");
    free(page);
    json_decref(doc);
}

TEST(header_line_and_state)
{
    json_t *doc = sample();
    char *page = ctl_status_html(doc, 5);
    HAS(page, "<span class=\"state ok\">OK</span>");
    HAS(page, "pid 1234");
    HAS(page, "up 1h 02m 03s");
    HAS(page, "generation 3");
    LACKS(page, "(starting");
    HAS(page, "http://127.0.0.1:8080, http://[::1]:8080");
    HAS(page, "Spawning 0.1.0");
    HAS(page, "as of 2025-11-21 ");
    free(page);
    json_object_set_new(doc, "active_children_count", json_integer(1));
    json_object_set_new(doc, "pending_generation", json_integer(4));
    page = ctl_status_html(doc, 5);
    HAS(page, "<span class=\"state bad\">DEGRADED: 1 of 2 children</span>");
    HAS(page, "generation 3 (starting 4)");
    free(page);
    json_decref(doc);
}

TEST(totals_formatted_for_people)
{
    json_t *doc = sample();
    char *page = ctl_status_html(doc, 5);
    HAS(page, "2 active / 2 configured / 0 killed");
    HAS(page, "<th>Requests</th><td class=\"n\">3,020</td>");
    HAS(page, "<td class=\"n\">50.3</td>");
    HAS(page, "<th>5xx responses</th><td class=\"n\">2</td>");
    HAS(page, "120.6 KiB");
    /* the reasons that happened, in the document's order */
    HAS(page, "<th>Connections closed</th><td>finished 1,520, idle 3, malformed 1</td>");
    free(page);
    json_decref(doc);
}

TEST(children_sorted_by_generation_then_pid)
{
    json_t *doc = sample();
    char *page = ctl_status_html(doc, 5);
    long a = at(page, "<td class=\"n\">1100</td>"), b = at(page, "<td class=\"n\">1240</td>"),
         c = at(page, "<td class=\"n\">1250</td>");
    CHECK(a >= 0 && b >= 0 && c >= 0);
    CHECK(a < b && b < c);
    /* pid 1250's row: gen, state, age, requests, active, connections, MiB, heartbeat */
    HAS(page, "<td class=\"n\">1250</td><td class=\"n\">3</td><td class=\"ready\">ready</td>"
              "<td class=\"n\">1m 20s</td><td class=\"n\">1,520</td><td class=\"n\">1</td>"
              "<td class=\"n\">12</td><td class=\"n\">30.0</td><td class=\"n\">0.3s ago</td>");
    HAS(page, "<td class=\"draining\">draining</td><td class=\"n\">15m 00s</td>");
    HAS(page, "<td class=\"n\">1.0</td><td class=\"n\">2m 00s ago</td>");
    HAS(page, "<td class=\"n\">32.0</td><td class=\"n\">2.0s ago</td>");
    free(page);
    json_decref(doc);
}

TEST(reload_error_escaped_in_pre)
{
    json_t *doc = sample();
    json_t *reloads = json_object_get(doc, "reloads");
    json_object_set_new(reloads, "last_error",
                        json_string("Traceback (most recent call last):\n"
                                    "  File \"app.py\", line 1\n"
                                    "<script>alert('x' & \"y\")</script>"));
    char *page = ctl_status_html(doc, 5);
    LACKS(page, "<script>");
    HAS(page, "<pre class=\"error\">Traceback (most recent call last):\n"
              "  File &quot;app.py&quot;, line 1\n"
              "&lt;script&gt;alert(&#39;x&#39; &amp; &quot;y&quot;)&lt;/script&gt;</pre>");
    HAS(page, "<th>Last reason</th><td class=\"n\">SIGHUP</td>");
    HAS(page, "failed (the previous generation keeps serving)");
    free(page);
    json_decref(doc);
}

TEST(config_strings_escaped)
{
    json_t *doc = sample();
    char *page = ctl_status_html(doc, 5);
    HAS(page, "<tr><th>app</th><td>tests.apps.hello:app&amp;&lt;b&gt;</td></tr>");
    HAS(page, "<tr><th>port</th><td>8080</td></tr>");
    LACKS(page, "<b>");
    LACKS(page, "<pre");
    HAS(page, "<th>Last result</th><td class=\"n\">succeeded</td>");
    free(page);
    json_decref(doc);
}

TEST(missing_members_show_dashes)
{
    json_t *doc = json_pack("{s:i, s:{s:{s:s}}}", "pid", 77, "children", "55", "state", "starting");
    char *page = ctl_status_html(doc, 3);
    CHECK(page != NULL);
    HAS(page, "pid 77 &middot; up - &middot; generation -");
    HAS(page, "listening on -");
    HAS(page, "<span class=\"state bad\">UNKNOWN</span>");
    HAS(page, "- active / - configured / - killed");
    HAS(page, "<th>Requests</th><td class=\"n\">-</td>");
    /* the pid comes from the key when the member is missing */
    HAS(page, "<td class=\"n\">55</td><td class=\"n\">-</td><td class=\"starting\">starting</td>"
              "<td class=\"n\">-</td><td class=\"n\">-</td><td class=\"n\">-</td>"
              "<td class=\"n\">-</td><td class=\"n\">-</td><td class=\"n\">-</td><td>"
              "<svg class=\"spark memory\"");
    HAS(page, "collecting data</text></svg></td></tr>");
    HAS(page, "<th>Latency p99</th><td class=\"n\">-</td>");
    HAS(page, "<th>Threads busy</th><td class=\"n\">-</td>");
    HAS(page, "<th>Last reason</th><td class=\"n\">-</td>");
    HAS(page, "<th>Connections closed</th><td>-</td>");
    LACKS(page, "<h2>Configuration</h2>");
    HAS(page, "</html>\n");
    free(page);
    json_decref(doc);
}

TEST(wrong_types_show_dashes)
{
    json_t *doc = json_pack("{s:s, s:s, s:[i,s], s:s, s:{s:i}}", "pid", "x", "uptime", "long",
                            "listen", 5, "http://a<", "children", "none", "reloads",
                            "last_error", 3);
    char *page = ctl_status_html(doc, 3);
    HAS(page, "pid - &middot; up -");
    HAS(page, "listening on http://a&lt;</p>");
    HAS(page, "no children");
    LACKS(page, "<pre");
    free(page);
    /* reasons are the document's keys: escaped; a count of the wrong type is left out */
    json_object_set_new(doc, "connections",
                        json_pack("{s:{s:i, s:s, s:i}}", "closed", "<b>", 2, "idle", "3",
                                  "finished", 0));
    page = ctl_status_html(doc, 3);
    HAS(page, "<th>Connections closed</th><td>&lt;b&gt; 2</td>");
    free(page);
    json_decref(doc);
}

TEST(zero_children)
{
    json_t *doc = sample();
    json_object_set_new(doc, "children", json_object());
    json_object_set_new(doc, "active_children_count", json_integer(0));
    char *page = ctl_status_html(doc, 5);
    HAS(page, "<tr><td colspan=\"10\">no children</td></tr>");
    HAS(page, "<th>PID</th>");
    HAS(page, "DEGRADED: 0 of 2 children");
    free(page);
    json_decref(doc);
}

TEST(not_an_object)
{
    char *page = ctl_status_html(NULL, 5);
    CHECK(page != NULL);
    HAS(page, "UNKNOWN");
    HAS(page, "no children");
    free(page);
    json_t *arr = json_array();
    page = ctl_status_html(arr, 5);
    HAS(page, "</html>\n");
    free(page);
    json_decref(arr);
}

TEST(long_durations_and_large_numbers)
{
    json_t *doc = sample();
    json_object_set_new(doc, "uptime", json_real(3 * 86400 + 4 * 3600 + 5 * 60 + 6));
    json_object_set_new(doc, "requests", json_integer(1234567890123LL));
    json_object_set_new(doc, "bytes_sent", json_integer(5LL << 30));
    json_object_set_new(doc, "responses_5xx", json_real(-1.5));
    char *page = ctl_status_html(doc, 5);
    HAS(page, "up 3d 04h 05m");
    HAS(page, "1,234,567,890,123");
    HAS(page, "5.0 GiB");
    HAS(page, "<th>5xx responses</th><td class=\"n\">-1</td>");
    free(page);
    json_decref(doc);
}

TEST(traffic_chart_latency_and_saturation)
{
    json_t *doc = sample();
    json_object_set_new(doc, "history", json_pack("{s:f, s:[f,f,f,f]}", "step_seconds", 5.0,
                                                  "requests_per_second", 10.0, 40.0, 20.0, 0.0));
    json_object_set_new(doc, "latency", json_pack("{s:f, s:f, s:f}", "p50", 0.0021, "p90",
                                                  0.0154, "p99", 0.25));
    json_object_set_new(doc, "threads", json_pack("{s:i, s:i}", "busy", 3, "configured", 4));
    char *page = ctl_status_html(doc, 5);
    HAS(page, "<h2>Traffic</h2>");
    HAS(page, "<svg class=\"chart rate\" width=\"480\" height=\"110\"");
    HAS(page, "<title>requests per second, last 10 minutes</title>");
    /* four points: x from 0 to the width, the largest (40) at the top */
    HAS(page, "points=\"0.0,81.5 159.7,2.0 319.3,55.0 479.0,108.0\"");
    HAS(page, ">max 40/s</text>");
    HAS(page, "<th>Latency p50</th><td class=\"n\">2.10 ms</td>");
    HAS(page, "<th>Latency p90</th><td class=\"n\">15.4 ms</td>");
    HAS(page, "<th>Latency p99</th><td class=\"n\">250.0 ms</td>");
    HAS(page, "3 of 4 (75%)<svg class=\"bar\"");
    HAS(page, "<rect width=\"90\" height=\"8\"");
    free(page);
    json_decref(doc);
}

TEST(memory_trend_per_child)
{
    json_t *doc = sample();
    json_t *children = json_object_get(doc, "children");
    const char *key;
    json_t *child;
    json_object_foreach(children, key, child)
        json_object_set_new(child, "memory_trend", json_pack("[f,f]", 1048576.0, 3145728.0));
    char *page = ctl_status_html(doc, 5);
    HAS(page, "<svg class=\"spark memory\" width=\"120\" height=\"24\"");
    HAS(page, ">max 3 MiB</text>");
    LACKS(page, "\"spark memory\" width=\"120\" height=\"24\" viewBox=\"0 0 120 24\" role=\"img\" "
                "xmlns=\"http://www.w3.org/2000/svg\" aria-label=\"resident memory, last 10 minutes\">"
                "<title>resident memory, last 10 minutes</title><rect x=\"0.5\" y=\"0.5\" "
                "width=\"119\" height=\"23\" fill=\"#fff\" stroke=\"#ddd\"/><text");
    free(page);
    json_decref(doc);
}

int main(int argc, char **argv)
{
    unit_init(argc, argv);
    RUN(complete_page_with_refresh);
    RUN(no_refresh_when_zero);
    RUN(header_line_and_state);
    RUN(totals_formatted_for_people);
    RUN(children_sorted_by_generation_then_pid);
    RUN(reload_error_escaped_in_pre);
    RUN(config_strings_escaped);
    RUN(missing_members_show_dashes);
    RUN(wrong_types_show_dashes);
    RUN(zero_children);
    RUN(not_an_object);
    RUN(long_durations_and_large_numbers);
    RUN(traffic_chart_latency_and_saturation);
    RUN(memory_trend_per_child);
    return unit_finish();
}
