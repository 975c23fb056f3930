/* Unit tests for cmn_accessfmt_compile_folded (common/cmn_accessfmt.h):
 * the constant atoms %(l)s and %(u)s compiled into the literal text around
 * them. Fewer ops, and every line the same as the plain compile's, cut or
 * not. */
#include "chd_accesslog.h"
#include "cmn_accessfmt.h"
#include "unit.h"

#include <errno.h>
#include <strings.h>

static const char *agent(const void *ctx, const char *name, size_t *len)
{
    (void)ctx;
    if (strcasecmp(name, "User-Agent") != 0)
        return NULL;
    *len = 9;
    return "agent/1.0";
}

static chd_accesslog_entry_t sample(void)
{
    static const char target[] = "/p?q=1";
    return (chd_accesslog_entry_t){
        .remote_addr = "192.0.2.1", .method = "GET", .target = target,
        .target_len = sizeof target - 1, .http_major = 1, .http_minor = 1, .status = 200,
        .body_bytes = 14, .started = 1796091399, .duration_us = 412, .pid = 7,
        .req_header = agent,
    };
}

/* Lines from the plain and the folded compile of `format` are the same,
 * in every buffer size from the smallest up. */
static void expect_same_lines(const char *format, int line)
{
    cmn_accessfmt_t plain, folded;
    char err[200];
    if (cmn_accessfmt_compile(format, &plain, err, sizeof err) < 0 ||
        cmn_accessfmt_compile_folded(format, &folded, err, sizeof err) < 0) {
        unit_fail(__FILE__, line, "%s: %s", format ? format : "(default)", err);
        return;
    }
    chd_accesslog_entry_t e = sample();
    for (size_t cap = 8; cap < 200; cap++) {
        char a[200], b[200];
        size_t na = chd_accesslog_format_line(&plain, &e, a, cap);
        size_t nb = chd_accesslog_format_line(&folded, &e, b, cap);
        if (na != nb || memcmp(a, b, na) != 0) {
            unit_fail(__FILE__, line, "%s, %zu bytes: \"%.*s\" folded as \"%.*s\"",
                      format ? format : "(default)", cap, (int)na, a, (int)nb, b);
            break;
        }
    }
    cmn_accessfmt_free(&plain);
    cmn_accessfmt_free(&folded);
}

TEST(folded_lines_are_the_same)
{
    setenv("TZ", "UTC", 1);
    tzset();
    expect_same_lines(NULL, __LINE__);
    expect_same_lines("%(l)s", __LINE__);
    expect_same_lines("%(u)s%(l)s", __LINE__);
    expect_same_lines("a%(l)sb%(u)s", __LINE__);
    expect_same_lines("%%(l)s %(l)s%%", __LINE__);
    expect_same_lines("%(h)s|%(l)s|%(u)s|%(t)s|%(r)s|%(m)s|%(U)s|%(q)s|%(H)s|%(s)s|%(B)s|%(b)s|"
                      "%(f)s|%(a)s|%(T)s|%(M)s|%(D)s|%(L)s|%(p)s|%({User-Agent}i)s|%({X}o)s",
                      __LINE__);
    expect_same_lines("", __LINE__);
}

TEST(folded_default_has_fewer_ops)
{
    cmn_accessfmt_t f;
    char err[200];
    CHECK_EQ_INT(cmn_accessfmt_compile_folded(NULL, &f, err, sizeof err), 0);
    CHECK_EQ_INT(f.nops, 15); /* 19 unfolded */
    CHECK_EQ_INT(f.ops[0].kind, CMN_AF_HOST);
    CHECK_EQ_INT(f.ops[1].kind, CMN_AF_LITERAL);
    CHECK_EQ_STR(cmn_af_text(&f, &f.ops[1]), " - - ");
    CHECK_EQ_INT(f.ops[1].len, 5);
    CHECK_EQ_INT(f.ops[2].kind, CMN_AF_TIME);
    cmn_accessfmt_free(&f);
    CHECK_EQ_INT(cmn_accessfmt_compile_folded("%(l)s%(u)s", &f, err, sizeof err), 0);
    CHECK_EQ_INT(f.nops, 1);
    CHECK_EQ_STR(cmn_af_text(&f, &f.ops[0]), "--");
    cmn_accessfmt_free(&f);
    /* the folded compile rejects what the plain one rejects */
    CHECK_EQ_INT(cmn_accessfmt_compile_folded("%(l)s %(x)s", &f, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "'%(x)s'") != NULL);
}

int main(int argc, char **argv)
{
    unit_init(argc, argv);
    RUN(folded_lines_are_the_same);
    RUN(folded_default_has_fewer_ops);
    return unit_finish();
}
