/* Unit tests for child/chd_logfields.h (the access log's one-pass lookup
 * of request fields) and chd_forwarded_client (the client address from
 * fields found that way): both must find exactly what
 * chd_request_find_header and chd_forwarded_read find. */
#include "chd_forwarded.h"
#include "chd_logfields.h"
#include "chd_request.h"
#include "unit.h"

/* A complete request with the given header lines ("Name: value\r\n"...). */
static void parse(chd_request_t *r, const char *fields)
{
    char head[4096];
    int n = snprintf(head, sizeof head, "GET / HTTP/1.1\r\nHost: x\r\n%s\r\n", fields);
    chd_request_init(r, NULL);
    chd_request_feed(r, head, (size_t)n);
    if (r->phase != CHD_REQ_DONE)
        unit_fail(__FILE__, __LINE__, "request did not parse: %s", fields);
}

/* Every name of the set is found as chd_request_find_header finds it. */
static void expect_same(const chd_logfields_t *set, const chd_request_t *r, int line)
{
    chd_logfields_found_t found;
    chd_logfields_find(set, r, &found);
    for (int k = 0; k < set->count; k++) {
        const chd_header_t *want = chd_request_find_header(r, set->names[k].name);
        if (found.found[k] != want)
            unit_fail(__FILE__, line, "%s: found header #%d, want #%d", set->names[k].name,
                      found.found[k] ? (int)(found.found[k] - r->headers) : -1,
                      want ? (int)(want - r->headers) : -1);
    }
}

static const char *const names[] = {
    "Referer", "User-Agent", "X-Forwarded-For", "Forwarded", "A", "ab", "X-Request-Id",
    "x-a^b", "Content-Type-Long-Name-Here", "X-12345678",
};

static void add_all(chd_logfields_t *set)
{
    chd_logfields_clear(set);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        CHECK_EQ_INT(chd_logfields_add(set, names[i]), (int)i);
}

TEST(finds_what_find_header_finds)
{
    static chd_logfields_t set;
    add_all(&set);
    chd_request_t r;
    parse(&r, "user-agent: curl\r\nREFERER: http://a/\r\nX-Request-ID: 1\r\nx-request-id: 2\r\n"
              "a: short\r\nAb: two\r\nX-A~B: tilde\r\nx-a^B: caret\r\n"
              "Content-Type-Long-Name-HerE: long\r\nX-12345679: near\r\nX-12345678: exact\r\n");
    expect_same(&set, &r, __LINE__);
    chd_logfields_found_t found;
    chd_logfields_find(&set, &r, &found);
    CHECK_MEM(chd_header_value(&r, found.found[1]), found.found[1]->value_len, "curl");
    CHECK_MEM(chd_header_value(&r, found.found[6]), found.found[6]->value_len, "1"); /* the first */
    CHECK_MEM(chd_header_value(&r, found.found[7]), found.found[7]->value_len, "caret"); /* not ~ */
    CHECK_MEM(chd_header_value(&r, found.found[9]), found.found[9]->value_len, "exact");
    CHECK(found.found[2] == NULL && found.found[3] == NULL);
    chd_request_free(&r);
    /* names that are near a wanted one but not it */
    parse(&r, "Referrer: no\r\nX_Request-Id: no\r\nX-Request-Id: yes\r\nX-1234567: no\r\n");
    expect_same(&set, &r, __LINE__);
    chd_request_free(&r);
    parse(&r, "");
    expect_same(&set, &r, __LINE__);
    chd_request_free(&r);
}

TEST(every_case_and_length)
{
    /* each wanted name of 1 to 40 bytes, against fields that differ in one
     * byte (case or not), are shorter or longer */
    static chd_logfields_t set;
    static char wanted[40][48];
    chd_logfields_clear(&set);
    for (int len = 1; len <= 40; len++) {
        for (int i = 0; i < len; i++)
            wanted[len - 1][i] = "Ab-C1d_E"[i % 8];
        wanted[len - 1][len] = '\0';
    }
    for (int len = 1; len <= 40; len += 3)
        CHECK(chd_logfields_add(&set, wanted[len - 1]) >= 0);
    for (int len = 1; len <= 40; len += 3) {
        for (int at = 0; at < len; at++) {
            char name[48], fields[256];
            memcpy(name, wanted[len - 1], (size_t)len + 1);
            name[at] ^= 0x20; /* another case, or another byte */
            if ((unsigned char)name[at] <= ' ' || name[at] == '\x7f')
                continue; /* not a token byte */
            int n = snprintf(fields, sizeof fields, "%s: 1\r\n%sx: 3\r\n", name, wanted[len - 1]);
            if (len > 1) /* and one byte short */
                snprintf(fields + n, sizeof fields - (size_t)n, "%.*s: 2\r\n", len - 1,
                         wanted[len - 1]);
            chd_request_t r;
            parse(&r, fields);
            expect_same(&set, &r, __LINE__);
            chd_request_free(&r);
        }
    }
}

TEST(full_set_and_long_names)
{
    static chd_logfields_t set;
    chd_logfields_clear(&set);
    char long_name[CHD_LOGFIELDS_NAME_MAX + 2];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    CHECK_EQ_INT(chd_logfields_add(&set, long_name), -1);
    long_name[CHD_LOGFIELDS_NAME_MAX] = '\0';
    CHECK_EQ_INT(chd_logfields_add(&set, long_name), 0);
    for (int i = 1; i < CHD_LOGFIELDS_MAX; i++)
        CHECK_EQ_INT(chd_logfields_add(&set, "Referer"), i);
    CHECK_EQ_INT(chd_logfields_add(&set, "Referer"), -1);
    CHECK_EQ_INT(set.count, CHD_LOGFIELDS_MAX);
    chd_request_t r;
    char fields[200];
    snprintf(fields, sizeof fields, "%s: long\r\nreferer: r\r\n", long_name);
    parse(&r, fields);
    expect_same(&set, &r, __LINE__);
    chd_request_free(&r);
}

TEST(slot_by_address)
{
    static chd_logfields_t set;
    static const char agent[] = "User-Agent";
    char copy[] = "User-Agent";
    chd_logfields_clear(&set);
    CHECK_EQ_INT(chd_logfields_add(&set, "Referer"), 0);
    CHECK_EQ_INT(chd_logfields_add(&set, agent), 1);
    CHECK_EQ_INT(chd_logfields_slot(&set, agent), 1);
    CHECK_EQ_INT(chd_logfields_slot(&set, copy), -1); /* the same text elsewhere */
}

/* chd_forwarded_client on the fields found in one pass gives
 * chd_forwarded_read's address. */
static void expect_client(const char *fields, const char *want, int line)
{
    static chd_logfields_t set;
    chd_logfields_clear(&set);
    chd_logfields_add(&set, "Forwarded");
    chd_logfields_add(&set, "X-Forwarded-For");
    chd_request_t r;
    parse(&r, fields);
    chd_logfields_found_t found;
    chd_logfields_find(&set, &r, &found);
    chd_forwarded_t one_pass, read;
    chd_forwarded_client(&r, found.found[0], found.found[1], &one_pass);
    chd_forwarded_read(&r, &read);
    if (strcmp(one_pass.addr, read.addr) != 0 || strcmp(one_pass.addr, want) != 0)
        unit_fail(__FILE__, line, "%s: client \"%s\", read \"%s\", want \"%s\"", fields,
                  one_pass.addr, read.addr, want);
    chd_request_free(&r);
}

TEST(client_address_as_forwarded_read_gives_it)
{
    expect_client("", "", __LINE__);
    expect_client("X-Forwarded-For: 10.0.0.1, 192.0.2.7\r\n", "192.0.2.7", __LINE__);
    expect_client("x-forwarded-for: unknown\r\n", "", __LINE__);
    expect_client("Forwarded: for=192.0.2.60;proto=https\r\nX-Forwarded-For: 10.9.9.9\r\n",
                  "192.0.2.60", __LINE__);
    expect_client("Forwarded: for=\"[2001:db8::1]:80\"\r\n", "2001:db8::1", __LINE__);
    expect_client("Forwarded: proto=https\r\nX-Forwarded-For: 10.9.9.9\r\n", "", __LINE__);
    expect_client("X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-For: 10.0.0.2\r\n", "10.0.0.1",
                  __LINE__);
}

int main(int argc, char **argv)
{
    unit_init(argc, argv);
    RUN(finds_what_find_header_finds);
    RUN(every_case_and_length);
    RUN(full_set_and_long_names);
    RUN(slot_by_address);
    RUN(client_address_as_forwarded_read_gives_it);
    return unit_finish();
}
