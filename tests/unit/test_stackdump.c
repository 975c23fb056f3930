/* Unit tests for child/chd_stackdump.h: picking one thread's section out
 * of a faulthandler dump and rewriting it as a traceback. The first test
 * uses a dump written by this very Python's faulthandler, so a change of
 * its format shows up here. */
#include "chd_stackdump.h"
#include "unit.h"

#include <Python.h>
#include <pthread.h>
#include <stdio.h>

#define SAMPLE                                                                                     \
    "Thread 0x00007f0000000002 (most recent call first):\n"                                        \
    "  File \"/srv/other.py\", line 3 in idle\n"                                                   \
    "\n"                                                                                           \
    "Thread 0x00007f0000000001 (most recent call first):\n"                                        \
    "  File \"/srv/app.py\", line 12 in hang\n"                                                    \
    "  File \"/srv/app.py\", line 30 in application\n"                                             \
    "\n"                                                                                           \
    "Current thread 0x00007f0000000003 (most recent call first):\n"                                \
    "  <no Python frame>\n"

TEST(picks_the_thread_and_reverses_it)
{
    char out[512];
    int n = chd_stackdump_format(SAMPLE, strlen(SAMPLE), 0x7f0000000001UL, out, sizeof out);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_STR(out, "  File \"/srv/app.py\", line 30, in application\n"
                      "  File \"/srv/app.py\", line 12, in hang\n");
    n = chd_stackdump_format(SAMPLE, strlen(SAMPLE), 0x7f0000000002UL, out, sizeof out);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_STR(out, "  File \"/srv/other.py\", line 3, in idle\n");
}

TEST(unknown_thread_or_no_frame_gives_nothing)
{
    char out[64] = "x";
    CHECK_EQ_INT(chd_stackdump_format(SAMPLE, strlen(SAMPLE), 0x1234UL, out, sizeof out), 0);
    CHECK_EQ_STR(out, "");
    CHECK_EQ_INT(chd_stackdump_format(SAMPLE, strlen(SAMPLE), 0x7f0000000003UL, out, sizeof out), 0);
    CHECK_EQ_INT(chd_stackdump_format("", 0, 1, out, sizeof out), 0);
}

TEST(the_current_thread_section_counts_too)
{
    const char dump[] = "Current thread 0x00000000000000ab (most recent call first):\n"
                        "  File \"a.py\", line 1 in f\n";
    char out[128];
    CHECK_EQ_INT(chd_stackdump_format(dump, sizeof dump - 1, 0xab, out, sizeof out), 1);
    CHECK_EQ_STR(out, "  File \"a.py\", line 1, in f\n");
}

TEST(odd_lines_are_copied_and_names_with_quotes_survive)
{
    /* A file name holding `", line 9 in x` must not fool the rewrite: the
     * last such mark is the real one. */
    const char dump[] = "Thread 0x0000000000000001 (most recent call first):\n"
                        "  File \"we\", line 9 in x.py\", line 4 in g\n"
                        "  File \"???\"\n";
    char out[256];
    CHECK_EQ_INT(chd_stackdump_format(dump, sizeof dump - 1, 1, out, sizeof out), 2);
    CHECK_EQ_STR(out, "  File \"???\"\n"
                      "  File \"we\", line 9 in x.py\", line 4, in g\n");
}

TEST(lines_that_do_not_fit_are_left_out_whole)
{
    char out[40];
    int n = chd_stackdump_format(SAMPLE, strlen(SAMPLE), 0x7f0000000001UL, out, sizeof out);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_STR(out, ""); /* the outermost frame alone needs 47 bytes */
    char tiny[1];
    chd_stackdump_format(SAMPLE, strlen(SAMPLE), 0x7f0000000001UL, tiny, sizeof tiny);
    CHECK_EQ_INT(tiny[0], '\0');
}

/* A dump written by faulthandler itself: this thread runs Python code that
 * dumps all threads into a temporary file; its own section must come out
 * with the function names of the code. */
TEST(a_real_faulthandler_dump)
{
    FILE *f = tmpfile();
    CHECK(f != NULL);
    if (!f)
        return;
    Py_Initialize();
    char code[512];
    snprintf(code, sizeof code,
             "import faulthandler\n"
             "def inner():\n"
             "    faulthandler.dump_traceback(%d, all_threads=True)\n"
             "def outer():\n"
             "    inner()\n"
             "outer()\n",
             fileno(f));
    CHECK_EQ_INT(PyRun_SimpleString(code), 0);
    unsigned long me = PyThread_get_thread_ident();
    Py_FinalizeEx();
    CHECK_EQ_INT((long)me, (long)(unsigned long)pthread_self());
    char dump[4096];
    rewind(f);
    size_t len = fread(dump, 1, sizeof dump, f);
    fclose(f);
    char out[1024];
    int n = chd_stackdump_format(dump, len, me, out, sizeof out);
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_STR(out, "  File \"<string>\", line 6, in <module>\n"
                      "  File \"<string>\", line 5, in outer\n"
                      "  File \"<string>\", line 3, in inner\n");
}

int main(int argc, char **argv)
{
    unit_init(argc, argv);
    RUN(picks_the_thread_and_reverses_it);
    RUN(unknown_thread_or_no_frame_gives_nothing);
    RUN(the_current_thread_section_counts_too);
    RUN(odd_lines_are_copied_and_names_with_quotes_survive);
    RUN(lines_that_do_not_fit_are_left_out_whole);
    RUN(a_real_faulthandler_dump);
    return unit_finish();
}
