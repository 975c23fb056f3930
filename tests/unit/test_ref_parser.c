/* Unit tests for the reference parser (tests/fuzz/ref_parser.c) and the
 * differential check against chd_request (tests/fuzz/ref_diff.c): every
 * case of tests/http/cases.py and every valid request there must get the
 * same verdict, the table's status, and the same parsed fields from both,
 * fed whole and in pieces. */
#include "../fuzz/ref_diff.c"
#include "../fuzz/ref_parser.c"
#include "unit.h"

#include <arpa/inet.h>

#include <stdio.h>

static const ref_limits_t limits = {CHD_DEFAULT_LIMIT_FIELDS, 0};

static int ref_status(const char *s)
{
    ref_result_t out;
    int rc = ref_parse(s, strlen(s), &limits, &out);
    ref_result_free(&out);
    return rc;
}

#define REF(s, want) CHECK_EQ_INT(ref_status(s), (want))

TEST(reference_reads_a_request)
{
    const char *req = "\r\nPOST /p?q HTTP/1.1\r\nHost: h\r\nX:  a b \t\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n3;x\r\nabc\r\n0\r\nT: t\r\n\r\nGET";
    ref_result_t out;
    CHECK_EQ_INT(ref_parse(req, strlen(req), &limits, &out), 0);
    CHECK_EQ_INT(out.used, strlen(req) - 3);
    CHECK_MEM(out.method, out.method_len, "POST");
    CHECK_MEM(out.target, out.target_len, "/p?q");
    CHECK_EQ_INT(out.nfields, 3);
    CHECK_MEM(out.fields[1].value, out.fields[1].value_len, "a b");
    CHECK_MEM(out.body, out.body_len, "abc");
    ref_result_free(&out);
}

TEST(reference_rules)
{
    REF("GET / HTTP/1.1\r\nHost: h\r\n\r\n", 0);
    REF("GET / HTTP/1.1\r\nHost: h\r\n", REF_INCOMPLETE);
    REF("GET / HTTP/1.1\r\nHost: h\n\r\n", 400);
    REF("FOO / HTTP/1.1\r\nHost: h\r\n\r\n", 501);
    REF("CONNECT h:1 HTTP/1.1\r\nHost: h\r\n\r\n", 501);
    REF("GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    REF("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", 0);
    REF("GET http://[::ffff:1.2.3.4]:80/ HTTP/1.1\r\nHost: h\r\n\r\n", 0);
    REF("GET http://[1:2:3:4:5:6:7::]/ HTTP/1.1\r\nHost: h\r\n\r\n", 0);
    REF("GET http://[::2:3:4:5:6:7:8]/ HTTP/1.1\r\nHost: h\r\n\r\n", 0);
    REF("GET http://[1:2:3:4:5:6:7:8::]/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    REF("GET http://[1::2::3]/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    REF("GET http://[::01.2.3.4]/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    REF("GET http://[1.2.3.4]/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    REF("GET http://[12345::]/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    REF("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0 \r\n\r\n", 400);
    REF("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0 ;a\r\n\r\n", 0);
    REF("GET / HTTP/1.1\r\nHost: h\r\nContent-Type: a\r\ncontent-type: a\r\n\r\n", 400);
}

/* IPv6 literals: the reference's ABNF reading against inet_pton's (what
 * the server uses), on a spread of forms. */
TEST(ipv6_abnf_agrees_with_inet_pton)
{
    const char *forms[] = {"::", "::1", "1::", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:1.2.3.4",
                           "::1.2.3.4", "1::1.2.3.4", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8",
                           "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", ":1::", "1:::2", "1::2::3",
                           "12345::", "g::", "::1.2.3", "::1.2.3.256", "::01.2.3.4", "1.2.3.4",
                           "::ffff:1.2.3.4", "a:b:c:d:e:f:1.2.3.4", "a:b:c:d:e:1.2.3.4",
                           "1:2:3:4:5::1.2.3.4", "::1.2.3.4:1", "fe80::1%1", ":", ""};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        struct in6_addr a;
        bool pton = inet_pton(AF_INET6, forms[i], &a) == 1;
        if (ipv6_address(forms[i], strlen(forms[i])) != pton)
            unit_fail(__FILE__, __LINE__, "%s: reference %d, inet_pton %d", forms[i], !pton,
                      pton);
    }
}

/* Runs one input through both, whole (statuses compared too) and in
 * pieces; want is the table's status (0: every message valid). */
static void differential(const char *name, const char *data, size_t len, int want)
{
    size_t steps[] = {0, 1, 2, 7, 64};
    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
        chd_request_t r;
        chd_request_init(&r, NULL);
        ref_diff_t d = {.compare_status = steps[k] == 0};
        if (ref_diff_run(&r, data, len, steps[k], NULL, NULL, &d) < 0)
            unit_fail(__FILE__, __LINE__, "%s (step %zu): %s", name, steps[k], d.why);
        else if (want == 0 && d.accepted != len)
            unit_fail(__FILE__, __LINE__, "%s (step %zu): only %zu of %zu bytes accepted", name,
                      steps[k], d.accepted, len);
        else if (want != 0 && (d.server_status != want || d.ref_status != want))
            unit_fail(__FILE__, __LINE__, "%s (step %zu): server %d, reference %d, want %d",
                      name, steps[k], d.server_status, d.ref_status, want);
        chd_request_free(&r);
    }
}

TEST(every_case_and_valid_request_agrees)
{
    FILE *f = popen("/usr/bin/python3 tests/http/cases.py --records", "r");
    CHECK(f != NULL);
    if (!f)
        return;
    int status, n = 0;
    size_t len;
    while (fscanf(f, "%d %zu", &status, &len) == 2 && fgetc(f) == '\n') {
        char *data = malloc(len + 1);
        if (fread(data, 1, len, f) != len) {
            unit_fail(__FILE__, __LINE__, "short record");
            free(data);
            break;
        }
        char name[48];
        snprintf(name, sizeof name, "record %d", n++);
        differential(name, data, len, status);
        free(data);
    }
    CHECK_EQ_INT(pclose(f), 0);
    if (n < 80)
        unit_fail(__FILE__, __LINE__, "only %d records from cases.py", n);
}

int main(int argc, char **argv)
{
    unit_init(argc, argv);
    RUN(reference_reads_a_request);
    RUN(reference_rules);
    RUN(ipv6_abnf_agrees_with_inet_pton);
    RUN(every_case_and_valid_request_agrees);
    return unit_finish();
}
