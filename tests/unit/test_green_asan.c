/* Unit tests for child/chd_green_asan.h. In the AddressSanitizer build: the
 * stale shadow that greenlet's stack copying leaves (a suspended
 * greenlet's redzones, played here by poison left in a returned frame) is
 * cleared by chd_green_asan_switched, however deep below it lies and
 * inside the live frames above too; frames entered afterwards keep their
 * redzones; other threads are left alone. In other builds it does nothing. */
#include "chd_green_asan.h"
#include "unit.h"

#include <pthread.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>

#define FRAME_BYTES 4096
#define DEEP_LEVELS 80 /* some 340 KiB under main: the stack grows past what it had used */

static char *stale; /* what leave_stale_poison left poisoned */

/* Recurses `levels` frames of FRAME_BYTES down, and at the bottom poisons a
 * piece of its own frame and returns without clearing it, as a greenlet
 * switched out there leaves its frames' redzones. */
__attribute__((noinline)) static void leave_stale_poison(int levels)
{
    volatile char frame[FRAME_BYTES] = {0};
    frame[0] = (char)levels;
    if (levels > 0) {
        leave_stale_poison(levels - 1);
        frame[1] = frame[0]; /* not a tail call: the frames stay stacked */
        return;
    }
    stale = (char *)&frame[FRAME_BYTES / 2];
    __asan_poison_memory_region(stale, 64);
}

/* A frame with a local, entered after the switch: the byte past the local
 * is its redzone, poisoned by the prologue as always. */
__attribute__((noinline)) static bool redzone_after_local_is_poisoned(void)
{
    volatile char local[40];
    local[0] = 1;
    return __asan_address_is_poisoned((const char *)local + sizeof local);
}

TEST(stale_poison_far_below_is_cleared)
{
    char *here = __builtin_frame_address(0);
    leave_stale_poison(DEEP_LEVELS);
    CHECK(__asan_region_is_poisoned(stale, 64) != NULL); /* the setup did leave it */
    CHECK(here - stale > 256 * 1024);                     /* farther than a guess would reach */
    chd_green_asan_switched();
    CHECK(__asan_region_is_poisoned(stale, 64) == NULL);
    CHECK(redzone_after_local_is_poisoned()); /* new frames are checked as always */
}

/* Calls chd_green_asan_switched from a frame below the caller's. */
__attribute__((noinline)) static void switched_below(void)
{
    chd_green_asan_switched();
}

TEST(stale_poison_in_a_live_frame_is_cleared)
{
    volatile char mine[256] = {0};
    char *middle = (char *)mine + 64;
    __asan_poison_memory_region(middle, 64); /* another greenlet's redzone, say */
    CHECK(__asan_region_is_poisoned(middle, 64) != NULL);
    switched_below();
    CHECK(__asan_region_is_poisoned(middle, 64) == NULL);
}

static void *poison_then_switch(void *arg)
{
    (void)arg;
    volatile char mine[256] = {0};
    char *middle = (char *)mine + 64;
    __asan_poison_memory_region(middle, 64);
    chd_green_asan_switched();
    bool kept = __asan_region_is_poisoned(middle, 64) != NULL;
    __asan_unpoison_memory_region(middle, 64);
    return kept ? (void *)1 : NULL;
}

TEST(another_thread_is_left_alone)
{
    pthread_t t;
    void *kept = NULL;
    CHECK(pthread_create(&t, NULL, poison_then_switch, NULL) == 0);
    pthread_join(t, &kept);
    CHECK(kept != NULL);
}

TEST(on_in_the_sanitizer_build)
{
    CHECK(chd_green_asan_on());
}

#else

TEST(off_elsewhere_and_harmless)
{
    CHECK(!chd_green_asan_on());
    chd_green_asan_switched();
}

#endif

int main(int argc, char **argv)
{
    unit_init(argc, argv);
    chd_green_asan_init(); /* here, near the top of the stack, as the hub does */
#if defined(__SANITIZE_ADDRESS__)
    RUN(stale_poison_far_below_is_cleared);
    RUN(stale_poison_in_a_live_frame_is_cleared);
    RUN(another_thread_is_left_alone);
    RUN(on_in_the_sanitizer_build);
#else
    RUN(off_elsewhere_and_harmless);
#endif
    return unit_finish();
}
