/* chd_green_asan: see chd_green_asan.h. */
#include "chd_green_asan.h"

#if defined(__SANITIZE_ADDRESS__)

#include <pthread.h>
#include <sanitizer/asan_interface.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

/* The hub thread's stack. The kernel maps the main thread's stack page by
 * page as it grows down and never unmaps it, so its lowest mapped page
 * bounds every frame ever made there, and every stale redzone: clearing
 * from there up costs what the stack has used (some 130 KiB of stack,
 * 16 KiB of shadow, in a green child), not its 8 MiB limit. */
static struct {
    bool known;
    pthread_t thread;
    char *floor;     /* the lowest address it may grow to */
    char *top;       /* one past its highest */
    char *low_water; /* its lowest mapped page, as last seen */
    size_t page;
} stack;

bool chd_green_asan_on(void)
{
    return true;
}

void chd_green_asan_init(void)
{
    pthread_attr_t attr;
    void *addr;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &attr) != 0)
        return;
    int rc = pthread_attr_getstack(&attr, &addr, &size);
    pthread_attr_destroy(&attr);
    if (rc != 0)
        return;
    stack.page = (size_t)sysconf(_SC_PAGESIZE);
    stack.thread = pthread_self();
    stack.floor = addr;
    stack.top = (char *)addr + size;
    stack.low_water = (char *)((uintptr_t)__builtin_frame_address(0) & ~(uintptr_t)(stack.page - 1));
    stack.known = true;
}

/* Whether the page at p is mapped: mincore() fails (ENOMEM) where not.
 * Unchecked, as everything here: the stack's shadow is not to be trusted
 * yet. Its answer goes to a static, not the stack: ASan's interceptor
 * checks that it may write there. */
__attribute__((no_sanitize_address)) static bool page_mapped(char *p)
{
    static unsigned char resident;
    return mincore(p, stack.page, &resident) == 0;
}

/* The stack's lowest mapped page. Below it nothing is mapped down to the
 * floor (pthread_getattr_np stops the floor at the mapping before), so
 * the mapped pages are one run ending at the top: while the page under
 * the last one seen is unmapped the stack has not grown; else a binary
 * search finds where the run begins now. */
__attribute__((no_sanitize_address)) static char *lowest_used_page(void)
{
    char *below = stack.low_water - stack.page;
    if (below < stack.floor || !page_mapped(below))
        return stack.low_water;
    char *lo = stack.floor, *hi = below; /* hi is mapped */
    while (lo < hi) {
        char *mid = lo + (size_t)(hi - lo) / stack.page / 2 * stack.page;
        if (page_mapped(mid))
            hi = mid;
        else
            lo = mid + stack.page;
    }
    stack.low_water = hi;
    return hi;
}

__attribute__((no_sanitize_address)) void chd_green_asan_switched(void)
{
    if (!stack.known || !pthread_equal(pthread_self(), stack.thread))
        return;
    char *low = lowest_used_page();
    __asan_unpoison_memory_region(low, (size_t)(stack.top - low));
}

#else

bool chd_green_asan_on(void)
{
    return false;
}

void chd_green_asan_init(void)
{
}

void chd_green_asan_switched(void)
{
}

#endif
