/* chd_green_asan: green mode in the AddressSanitizer build (make asan).
 *
 * ASan keeps a shadow byte for every 8 bytes of stack saying whether they
 * may be touched. A checked function's prologue poisons the redzones
 * around its locals and its epilogue clears them again; the prologue takes
 * the rest of its frame's shadow to be clear already (GCC writes only the
 * redzones' shadow), which holds as long as every frame below the stack
 * pointer has returned. greenlet breaks that: it suspends a greenlet by
 * copying its slice of the one C stack to the heap and runs the next
 * greenlet on the same addresses, and the shadow stays as the suspended
 * greenlet's live frames left it. A frame laid over it then finds someone
 * else's redzones inside its own locals: the hub's TLS handshake, say,
 * running where a request's chd_wsgi_serve waits in the app, gets a report
 * (unknown-crash, stack-buffer-overflow or stack-use-after-scope, after
 * the stale byte) in init_ticket_crypto (chd_tls.c) writing its own
 * local. ASan's fiber API (__sanitizer_start_switch_fiber) cannot say
 * this: it describes fibers that each have a stack of their own, and
 * greenlets share one.
 *
 * So after every switch, on the switched-to greenlet's stack (greenlet's
 * trace function runs there, before anything else), the shadow of the
 * whole stack, as deep as it has ever grown, is cleared. Frames entered
 * after the switch are checked as always; frames live across it lose
 * their redzones until they return.
 * (ASAN_OPTIONS=detect_stack_use_after_return=1 would move checked locals
 * off the copied stack instead, but after any C++ throw its fake stack
 * frees, as garbage, every frame that lies deeper than the thrower's, a
 * suspended greenlet's too; and greenlet throws, when a child drains for
 * one.) In other builds these functions do nothing. */
#ifndef CHD_GREEN_ASAN_H
#define CHD_GREEN_ASAN_H

#include <stdbool.h>

/* True in the AddressSanitizer build: green mode then traces every greenlet
 * switch, with or without --timeout. */
bool chd_green_asan_on(void);

/* Learns the calling thread's stack (the hub's: green mode's one thread);
 * before its first greenlet switch. */
void chd_green_asan_init(void);

/* Clears the shadow of the hub thread's stack, from the lowest page it
 * has ever used to its top. Call first thing after a greenlet switch, on
 * the switched-to greenlet's stack, before any checked code touches it.
 * Does nothing on another thread, or before chd_green_asan_init. */
void chd_green_asan_switched(void);

#endif
