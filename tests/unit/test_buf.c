/* Unit tests for common/cmn_buf.h. */
#include "cmn_buf.h"
#include "unit.h"

#include <errno.h>
#include <stdint.h>

TEST(starts_empty)
{
    cmn_buf_t b = CMN_BUF_INIT;
    CHECK_EQ_INT(cmn_buf_unread(&b), 0);
    CHECK(b.data == NULL);
    cmn_buf_free(&b); /* freeing an empty buffer is fine */
    CHECK(b.data == NULL);
    CHECK_EQ_INT(b.cap, 0);
}

TEST(append_and_append_str)
{
    cmn_buf_t b = CMN_BUF_INIT;
    CHECK_EQ_INT(cmn_buf_append(&b, "hello", 5), 0);
    CHECK_EQ_INT(cmn_buf_append_str(&b, " world"), 0);
    CHECK_EQ_INT(cmn_buf_append(&b, "ignored", 0), 0);
    CHECK_EQ_INT(cmn_buf_append_str(&b, ""), 0);
    CHECK_MEM(cmn_buf_head(&b), cmn_buf_unread(&b), "hello world");
    CHECK(b.cap >= b.len);
    /* bytes that are not text, NUL included */
    CHECK_EQ_INT(cmn_buf_append(&b, "\0\xff", 2), 0);
    CHECK_MEM_N(cmn_buf_head(&b), cmn_buf_unread(&b), "hello world\0\xff", 13);
    cmn_buf_free(&b);
    CHECK(b.data == NULL);
    CHECK_EQ_INT(b.start + b.len + b.cap, 0);
}

TEST(appendf_formats)
{
    cmn_buf_t b = CMN_BUF_INIT;
    CHECK_EQ_INT(cmn_buf_appendf(&b, "%d-%s-%03x", 42, "x", 10), 0);
    CHECK_MEM(cmn_buf_head(&b), cmn_buf_unread(&b), "42-x-00a");
    CHECK_EQ_INT(cmn_buf_appendf(&b, "%s", ""), 0);
    CHECK_EQ_INT(cmn_buf_unread(&b), 8);
    CHECK_EQ_INT(cmn_buf_appendf(&b, "|%s|", "tail"), 0);
    CHECK_MEM(cmn_buf_head(&b), cmn_buf_unread(&b), "42-x-00a|tail|");
    cmn_buf_free(&b);
}

TEST(appendf_grows_past_initial_capacity)
{
    cmn_buf_t b = CMN_BUF_INIT;
    CHECK_EQ_INT(cmn_buf_append_str(&b, "ab"), 0);
    CHECK_EQ_INT(cmn_buf_appendf(&b, "%01000d", 7), 0);
    CHECK_EQ_INT(cmn_buf_unread(&b), 1002);
    CHECK(b.cap >= 1002);
    CHECK_MEM(cmn_buf_head(&b), 3, "ab0");
    CHECK_EQ_INT(b.data[1001], '7');
    /* appendf after bytes were consumed writes after the unread ones */
    cmn_buf_consume(&b, 1000);
    CHECK_EQ_INT(cmn_buf_appendf(&b, "%s", "xyz"), 0);
    CHECK_MEM(cmn_buf_head(&b), cmn_buf_unread(&b), "07xyz");
    cmn_buf_free(&b);
}

TEST(consume_moves_cursor_and_resets_when_empty)
{
    cmn_buf_t b = CMN_BUF_INIT;
    cmn_buf_append_str(&b, "hello world");
    cmn_buf_consume(&b, 6);
    CHECK_EQ_INT(cmn_buf_unread(&b), 5);
    CHECK_MEM(cmn_buf_head(&b), cmn_buf_unread(&b), "world");
    cmn_buf_consume(&b, 0);
    CHECK_EQ_INT(cmn_buf_unread(&b), 5);
    char *data = b.data;
    cmn_buf_consume(&b, 5);
    CHECK_EQ_INT(cmn_buf_unread(&b), 0);
    CHECK_EQ_INT(b.start, 0);
    CHECK_EQ_INT(b.len, 0);
    CHECK(b.data == data); /* the allocation is kept */
    cmn_buf_append_str(&b, "again");
    CHECK_MEM(cmn_buf_head(&b), cmn_buf_unread(&b), "again");
    CHECK_EQ_INT(b.start, 0);
    cmn_buf_free(&b);
}

TEST(compact_moves_unread_to_front)
{
    cmn_buf_t b = CMN_BUF_INIT;
    cmn_buf_append_str(&b, "abcdef");
    cmn_buf_compact(&b); /* nothing consumed: no-op */
    CHECK_MEM(cmn_buf_head(&b), cmn_buf_unread(&b), "abcdef");
    cmn_buf_consume(&b, 2);
    size_t cap = b.cap;
    cmn_buf_compact(&b);
    CHECK_EQ_INT(b.start, 0);
    CHECK_EQ_INT(b.len, 4);
    CHECK_EQ_INT(b.cap, cap);
    CHECK_MEM(b.data, b.len, "cdef");
    cmn_buf_free(&b);
}

TEST(reserve_makes_room)
{
    cmn_buf_t b = CMN_BUF_INIT;
    CHECK_EQ_INT(cmn_buf_reserve(&b, 0), 0);
    CHECK_EQ_INT(cmn_buf_reserve(&b, 1000), 0);
    CHECK(b.data != NULL);
    CHECK(b.cap - b.len >= 1000);
    cmn_buf_append_str(&b, "xy");
    CHECK_EQ_INT(cmn_buf_reserve(&b, 5000), 0);
    CHECK(b.cap - b.len >= 5000);
    CHECK_MEM(cmn_buf_head(&b), cmn_buf_unread(&b), "xy");
    /* reserving what is already there changes nothing */
    char *data = b.data;
    size_t cap = b.cap;
    CHECK_EQ_INT(cmn_buf_reserve(&b, 10), 0);
    CHECK(b.data == data);
    CHECK_EQ_INT(b.cap, cap);
    cmn_buf_free(&b);
}

TEST(reserve_reuses_consumed_space_before_growing)
{
    cmn_buf_t b = CMN_BUF_INIT;
    char block[200];
    memset(block, 'a', sizeof block);
    memcpy(block + 150, "0123456789", 10);
    CHECK_EQ_INT(cmn_buf_append(&b, block, sizeof block), 0);
    size_t cap = b.cap;
    cmn_buf_consume(&b, 150); /* 50 unread bytes at the end */
    CHECK(cap - b.len < cap - 50);
    size_t extra = cap - 50; /* fits only once the consumed bytes are reclaimed */
    CHECK(extra > cap - b.len);
    CHECK_EQ_INT(cmn_buf_reserve(&b, extra), 0);
    CHECK_EQ_INT(b.cap, cap); /* compacted, not grown */
    CHECK_EQ_INT(b.start, 0);
    CHECK_EQ_INT(cmn_buf_unread(&b), 50);
    CHECK(b.cap - b.len >= extra);
    CHECK_MEM(cmn_buf_head(&b), 10, "0123456789");
    cmn_buf_free(&b);
}

TEST(reserve_refuses_impossible_sizes)
{
    cmn_buf_t b = CMN_BUF_INIT;
    CHECK_EQ_INT(cmn_buf_reserve(&b, SIZE_MAX), -ENOMEM);
    CHECK(b.data == NULL);
    cmn_buf_append_str(&b, "keep");
    CHECK_EQ_INT(cmn_buf_reserve(&b, SIZE_MAX), -ENOMEM);
    CHECK_EQ_INT(cmn_buf_reserve(&b, SIZE_MAX - 2), -ENOMEM);
    CHECK_EQ_INT(cmn_buf_append(&b, "x", SIZE_MAX), -ENOMEM);
    CHECK_MEM(cmn_buf_head(&b), cmn_buf_unread(&b), "keep");
    cmn_buf_free(&b);
}

TEST(clear_keeps_allocation)
{
    cmn_buf_t b = CMN_BUF_INIT;
    cmn_buf_append_str(&b, "something");
    char *data = b.data;
    size_t cap = b.cap;
    cmn_buf_clear(&b);
    CHECK_EQ_INT(cmn_buf_unread(&b), 0);
    CHECK(b.data == data);
    CHECK_EQ_INT(b.cap, cap);
    cmn_buf_free(&b);
}

TEST(shrink_drops_only_big_idle_buffers)
{
    cmn_buf_t b = CMN_BUF_INIT;
    char chunk[4096];
    memset(chunk, 'z', sizeof chunk);
    for (int i = 0; i < 25; i++)
        CHECK_EQ_INT(cmn_buf_append(&b, chunk, sizeof chunk), 0);
    CHECK(b.cap >= 100 * 1024);
    /* unread bytes: kept whatever the size */
    cmn_buf_shrink(&b, 16 * 1024);
    CHECK(b.data != NULL);
    CHECK_EQ_INT(cmn_buf_unread(&b), 25 * 4096);
    /* all read and bigger than keep: released */
    cmn_buf_consume(&b, cmn_buf_unread(&b));
    cmn_buf_shrink(&b, 16 * 1024);
    CHECK(b.data == NULL);
    CHECK_EQ_INT(b.cap, 0);
    CHECK_EQ_INT(cmn_buf_unread(&b), 0);
    /* still usable afterwards */
    CHECK_EQ_INT(cmn_buf_append_str(&b, "small"), 0);
    cmn_buf_consume(&b, 5);
    char *data = b.data;
    cmn_buf_shrink(&b, 16 * 1024); /* small: kept */
    CHECK(b.data == data);
    CHECK(b.cap > 0);
    cmn_buf_free(&b);
}

TEST(large_growth_keeps_every_byte)
{
    cmn_buf_t b = CMN_BUF_INIT;
    const size_t total = 3u * 1024 * 1024 + 17;
    char piece[1000];
    size_t written = 0;
    while (written < total) {
        size_t n = total - written < sizeof piece ? total - written : sizeof piece;
        for (size_t i = 0; i < n; i++)
            piece[i] = (char)((written + i) * 31 % 251);
        if (cmn_buf_append(&b, piece, n) != 0)
            break;
        written += n;
    }
    CHECK_EQ_INT(written, total);
    CHECK_EQ_INT(cmn_buf_unread(&b), total);
    CHECK(b.cap >= total);
    CHECK(b.cap < 2 * total + 256); /* geometric, not wasteful */
    size_t bad = 0;
    for (size_t i = 0; i < total; i++)
        if (b.data[i] != (char)(i * 31 % 251))
            bad++;
    CHECK_EQ_INT(bad, 0);
    /* consume most, compact, and the tail is intact at the front */
    cmn_buf_consume(&b, total - 100);
    cmn_buf_compact(&b);
    CHECK_EQ_INT(cmn_buf_unread(&b), 100);
    bad = 0;
    for (size_t i = 0; i < 100; i++)
        if (b.data[i] != (char)((total - 100 + i) * 31 % 251))
            bad++;
    CHECK_EQ_INT(bad, 0);
    cmn_buf_free(&b);
}

int main(int argc, char **argv)
{
    unit_init(argc, argv);
    RUN(starts_empty);
    RUN(append_and_append_str);
    RUN(appendf_formats);
    RUN(appendf_grows_past_initial_capacity);
    RUN(consume_moves_cursor_and_resets_when_empty);
    RUN(compact_moves_unread_to_front);
    RUN(reserve_makes_room);
    RUN(reserve_reuses_consumed_space_before_growing);
    RUN(reserve_refuses_impossible_sizes);
    RUN(clear_keeps_allocation);
    RUN(shrink_drops_only_big_idle_buffers);
    RUN(large_growth_keeps_every_byte);
    return unit_finish();
}
