/* chd_watchdog: --timeout inside the child.
 *
 * A C thread (so it works while the stuck request holds the GIL, or blocks
 * the gevent hub) looks four times a second at the requests running on
 * the process's threads. Each thread that runs requests has a slot: the
 * request it runs now and since when (chd_watchdog_begin/_end, a few
 * atomic operations per request; nothing at all without --timeout). When
 * a request has run longer than --timeout, the watchdog, once per request:
 *   - logs "request GET /x ran past --timeout 2 s on thread N; its stack
 *     (most recent call last):" and the thread's Python stack, read with
 *     faulthandler's all-threads dump (registered on CHD_WATCHDOG_SIGNAL,
 *     written into a memfd without needing the GIL) and picked out by
 *     chd_stackdump;
 *   - answers the client 504 Gateway Timeout with "Connection: close" when
 *     nothing of a response was written yet (chd_conn_claim_answer decides
 *     between the app and the watchdog), plain or over TLS, logs it in the
 *     access log, and shuts the socket either way (the request's own
 *     thread still owns the descriptor; its later writes fail). Over TLS
 *     the claim hands the session's state to the watchdog: the request's
 *     thread never calls into it again (a body read under way is waited
 *     out), the 504 and close_notify go through it here, and the
 *     connection's destroy frees it once this is over (chd_conn.c, "One
 *     thread at a time"). The 504 waits for room in the socket a fifth of
 *     a second at most; a response already begun is cut short without
 *     close_notify, so the client sees it was cut;
 *   - tells the controller (CMN_MSG_TIMEOUT), which replaces the child
 *     gracefully: the other requests in flight finish within
 *     --graceful-timeout while the stuck one is killed with its process.
 *
 * Green mode: the hub thread's slot follows the greenlet on it (a switch
 * hook in chd_green.c), so a request whose greenlet blocks the hub (a CPU
 * loop, a call gevent did not patch) is caught here with its stack; one
 * that waits cooperatively past --timeout (a patched sleep or socket) is
 * caught by the hub itself (green.py), with its greenlet's stack, through
 * chd_watchdog_overran. */
#ifndef CHD_WATCHDOG_H
#define CHD_WATCHDOG_H

#include "chd_config.h"
#include "chd_conn.h"

#include <signal.h>

/* The signal faulthandler dumps on (sent by the watchdog to itself only);
 * an app that registers its own handler for it loses the stacks. */
#define CHD_WATCHDOG_SIGNAL (SIGRTMIN + 4)

/* Starts watching when cfg->timeout > 0 (else does nothing and returns 0):
 * registers faulthandler and starts the thread. GIL held; before any
 * request runs. Returns 0 or -1 (logged; the child then serves without
 * the in-child timeout, the controller still replaces it). */
int chd_watchdog_start(const chd_config_t *cfg, int control_fd);

/* Joins the thread (GIL not held). */
void chd_watchdog_stop(void);

/* The calling thread runs conn's request from now on (again, after a
 * green wait). */
void chd_watchdog_begin(chd_conn_t *conn);

/* The calling thread no longer runs a request (it ended, or the greenlet
 * yields to the hub). Waits while the watchdog is handling that request,
 * so conn outlives its use there. */
void chd_watchdog_end(void);

/* What happens to a request past --timeout (see above), given where it
 * ran ("in its greenlet") and its stack as traceback lines; done on the
 * watchdog thread, on its own stack (not a greenlet's, whose stack copies
 * AddressSanitizer misreads), while the caller waits. Returns false when
 * that request was handled already, or without --timeout. */
bool chd_watchdog_overran(chd_conn_t *conn, const char *where, const char *stack);

/* True when conn's running request is past --timeout and not handled yet
 * (false without --timeout). */
bool chd_watchdog_is_overdue(const chd_conn_t *conn, double now);

#endif
