/* chd_linger: closing a connection's socket without a reset under its last
 * answer.
 *
 * Closing a TCP socket whose receive buffer holds bytes not read (or that
 * gets bytes after the close) makes Linux send a reset instead of a FIN. A
 * client still sending its request when the server answered (a 413 for a
 * body it is uploading, a 400 for a malformed head followed by more bytes,
 * the 400 for plain HTTP on a TLS address, whose bytes were only peeked at)
 * then loses the answer it has not read yet: it sees "connection reset".
 *
 * So such a connection is closed lingering, as nginx's lingering_close
 * does: its write side is shut (the answer is followed by a FIN), then
 * what the client still sends is read and thrown away until the client
 * closes, CHD_LINGER_SECONDS have passed or CHD_LINGER_MAX_BYTES were
 * discarded, and only then is the socket closed. The waiting is done by an
 * ev_io and an ev_timer on the connections' loop (env->loop), never by a
 * thread. By then the connection itself is gone (destroyed, counted by its
 * close reason): a lingering socket is a small record in env->lingering,
 * not a connection; a drain waits for those too, within their bound.
 * Everything here runs on the loop's thread (threaded mode: holding the
 * loop; green mode: the hub's thread), without the GIL. */
#ifndef CHD_LINGER_H
#define CHD_LINGER_H

#include "chd_conn.h"

#include <stdbool.h>

#define CHD_LINGER_SECONDS 2.0                 /* at most this long after the answer */
#define CHD_LINGER_MAX_BYTES (8 * 1024 * 1024) /* at most this much more of the request */

/* Closes socket fd (taken over) lingering on env->loop: shuts its write
 * side, then reads and drops what comes until end of file, a read error,
 * CHD_LINGER_SECONDS or CHD_LINGER_MAX_BYTES, then closes it and calls
 * env->on_close (the end of a drain may have been waiting for it). Closes
 * it at once when out of memory. The dropped bytes are counted as
 * received. */
void chd_linger_close(chd_conn_env_t *env, int fd);

/* True while some socket of env lingers. */
static inline bool chd_linger_any(const chd_conn_env_t *env)
{
    return env->lingering != NULL;
}

#endif
