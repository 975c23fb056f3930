/* Unit tests for the plain C helpers of child/chd_environ.h (URL split and
 * percent-decoding). Nothing here starts Python; it is only linked in. */
#include "chd_environ.h"
#include "unit.h"

/* Splits url and checks path and query. */
static void check_split(const char *url, const char *want_path, const char *want_query,
                        const char *file, int line)
{
    const char *path = NULL, *query = NULL;
    size_t plen = 99, qlen = 99;
    chd_url_split(url, strlen(url), &path, &plen, &query, &qlen);
    bool ok = path && query && plen == strlen(want_path) && qlen == strlen(want_query) &&
              memcmp(path, want_path, plen) == 0 && memcmp(query, want_query, qlen) == 0;
    if (!ok) {
        unit_fail(file, line, "split(\"%s\")", url);
        printf("       got  path ");
        if (path)
            unit_print_bytes(path, plen);
        printf(" query ");
        if (query)
            unit_print_bytes(query, qlen);
        printf("\n       want path \"%s\" query \"%s\"\n", want_path, want_query);
    }
}
#define CHECK_SPLIT(url, path, query) check_split((url), (path), (query), __FILE__, __LINE__)

/* Decodes in (a copy) and checks the result. */
static void check_decode(const char *in, size_t len, const char *want, size_t want_len,
                         const char *file, int line)
{
    char *out = malloc(len + 1);
    size_t n = chd_url_decode(in, len, out);
    if (n != want_len || memcmp(out, want, n) != 0) {
        unit_fail(file, line, "decode(\"%s\")", in);
        printf("       got  ");
        unit_print_bytes(out, n);
        printf("\n       want ");
        unit_print_bytes(want, want_len);
        printf("\n");
    }
    free(out);
}
#define CHECK_DECODE(in, want) check_decode((in), strlen(in), (want), strlen(want), __FILE__, __LINE__)

TEST(split_origin_form)
{
    CHECK_SPLIT("/", "/", "");
    CHECK_SPLIT("/p", "/p", "");
    CHECK_SPLIT("/a/b/c.html", "/a/b/c.html", "");
    CHECK_SPLIT("/p?q=1", "/p", "q=1");
    CHECK_SPLIT("/p?a=1&b=2", "/p", "a=1&b=2");
    CHECK_SPLIT("/p?", "/p", "");
    CHECK_SPLIT("/?x", "/", "x");
    CHECK_SPLIT("/p?a?b", "/p", "a?b");
    CHECK_SPLIT("/p%3Fnot-a-query", "/p%3Fnot-a-query", "");
    CHECK_SPLIT("/a:b//c?d", "/a:b//c", "d");
    CHECK_SPLIT("//double/slash", "//double/slash", "");
}

TEST(split_points_into_the_url)
{
    const char *url = "/path?query";
    const char *path, *query;
    size_t plen, qlen;
    chd_url_split(url, strlen(url), &path, &plen, &query, &qlen);
    CHECK(path == url);
    CHECK(query == url + 6);
    /* only len bytes are looked at */
    chd_url_split("/abc?def", 4, &path, &plen, &query, &qlen);
    CHECK_MEM(path, plen, "/abc");
    CHECK_EQ_INT(qlen, 0);
}

TEST(split_absolute_form)
{
    CHECK_SPLIT("http://host/p?q", "/p", "q");
    CHECK_SPLIT("http://host/p", "/p", "");
    CHECK_SPLIT("http://host?q", "/", "q");
    CHECK_SPLIT("http://host", "/", "");
    CHECK_SPLIT("http://host/", "/", "");
    CHECK_SPLIT("http://host:8080/a/b?c=d", "/a/b", "c=d");
    CHECK_SPLIT("https://user@host/x", "/x", "");
    CHECK_SPLIT("http://[::1]:8080/v6?z", "/v6", "z");
    CHECK_SPLIT("http://host?q/with/slash", "/", "q/with/slash");
    CHECK_SPLIT("http://host#frag", "/", "");
}

TEST(split_asterisk_form)
{
    CHECK_SPLIT("*", "*", "");
}

TEST(split_drops_fragment)
{
    CHECK_SPLIT("/p#frag", "/p", "");
    CHECK_SPLIT("/p?q=1#frag", "/p", "q=1");
    CHECK_SPLIT("/p#frag?notquery", "/p", "");
    CHECK_SPLIT("/p?#", "/p", "");
    CHECK_SPLIT("http://host/p?q#f", "/p", "q");
}

TEST(split_empty)
{
    const char *path = NULL, *query = NULL;
    size_t plen = 99, qlen = 99;
    chd_url_split("", 0, &path, &plen, &query, &qlen);
    CHECK(path != NULL);
    CHECK(query != NULL);
    CHECK_EQ_INT(qlen, 0);
    CHECK(plen == 0 || (plen == 1 && path[0] == '/'));
}

TEST(decode_escapes)
{
    CHECK_DECODE("%41", "A");
    CHECK_DECODE("/a%20b", "/a b");
    CHECK_DECODE("%c3%a9", "\xc3\xa9");
    CHECK_DECODE("%C3%A9", "\xc3\xa9");
    CHECK_DECODE("%2F%2f", "//");
    CHECK_DECODE("%7e%7E", "~~");
    CHECK_DECODE("%ff", "\xff");
    CHECK_DECODE("a+b", "a+b"); /* '+' is not a space in a path */
    CHECK_DECODE("", "");
    CHECK_DECODE("plain/path", "plain/path");
    check_decode("x%00y", 5, "x\0y", 3, __FILE__, __LINE__);
}

TEST(decode_keeps_malformed_escapes)
{
    CHECK_DECODE("%zz", "%zz");
    CHECK_DECODE("%4", "%4");
    CHECK_DECODE("a%4", "a%4");
    CHECK_DECODE("%", "%");
    CHECK_DECODE("a%", "a%");
    CHECK_DECODE("%4g", "%4g");
    CHECK_DECODE("%g4", "%g4");
    CHECK_DECODE("%%41", "%A");
    CHECK_DECODE("%41%", "A%");
    CHECK_DECODE("%41%4", "A%4");
    CHECK_DECODE("100%", "100%");
    CHECK_DECODE("% 41", "% 41");
}

TEST(decode_in_place)
{
    char buf[] = "/a%20b%zz%41%c3%a9%4";
    size_t n = chd_url_decode(buf, strlen(buf), buf);
    CHECK_MEM(buf, n, "/a b%zzA\xc3\xa9%4");
    /* only len bytes are read */
    char part[] = "%41%42";
    n = chd_url_decode(part, 3, part);
    CHECK_MEM(part, n, "A");
    n = chd_url_decode("%41%42", 5, part);
    CHECK_MEM(part, n, "A%4");
}

int main(int argc, char **argv)
{
    unit_init(argc, argv);
    RUN(split_origin_form);
    RUN(split_points_into_the_url);
    RUN(split_absolute_form);
    RUN(split_asterisk_form);
    RUN(split_drops_fragment);
    RUN(split_empty);
    RUN(decode_escapes);
    RUN(decode_keeps_malformed_escapes);
    RUN(decode_in_place);
    return unit_finish();
}
