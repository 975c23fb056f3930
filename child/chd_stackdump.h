/* chd_stackdump: one thread's Python stack out of a faulthandler dump.
 *
 * faulthandler (dump_traceback with all_threads, or a handler registered
 * with faulthandler.register) writes every thread's stack without needing
 * the GIL, which is what --timeout needs when a request is stuck: its
 * thread may hold the GIL in a loop or in C code. The dump reads
 *
 *     Thread 0x00007f3a2b7fe6c0 (most recent call first):
 *       File "/srv/app.py", line 12 in hang
 *       File "/srv/app.py", line 30 in application
 *
 *     Current thread 0x... (most recent call first):
 *       ...
 *
 * This module picks the section of one thread (by its Python thread
 * ident, which is its pthread_t) and rewrites it as Python's tracebacks
 * read, most recent call last ("  File "/srv/app.py", line 12, in hang").
 * Pure text work: no Python, no allocation; any thread. */
#ifndef CHD_STACKDUMP_H
#define CHD_STACKDUMP_H

#include <stddef.h>

#define CHD_STACKDUMP_MAX_FRAMES 128 /* deeper stacks keep their innermost frames */

/* Writes thread `ident`'s frames from `dump` (len bytes) into out, one line
 * per frame ending in '\n', most recent call last; a frame line that does
 * not read as expected is copied as it is. out is always NUL-terminated
 * (lines that do not fit are left out whole). Returns the number of frames
 * found: 0 when the thread is not in the dump or has no Python frame. */
int chd_stackdump_format(const char *dump, size_t len, unsigned long ident, char *out,
                         size_t cap);

#endif
