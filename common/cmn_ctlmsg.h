/* cmn_ctlmsg: the control channel between the controller and a child.
 *
 * The channel is an AF_UNIX SOCK_SEQPACKET socketpair, so every message
 * arrives whole: one JSON object per packet, with file descriptors riding
 * along as SCM_RIGHTS ancillary data (the listening sockets travel this
 * way). Every message has a "type" member naming one of the CMN_MSG_*
 * kinds below.
 *
 *   controller -> child   "config"  the child's settings, listening fds attached
 *                                   (none with "probe": true: run the --factory
 *                                   once, answer "options" or "fatal", exit)
 *                         "stop"    stop accepting, finish in-flight requests, exit
 *                         "ping"    heartbeat: answer "pong"
 *                         "reopen"  reopen the log files (SIGUSR1 on the controller)
 *   child -> controller   "ready"   the app is imported and the child is accepting
 *                         "fatal"   start-up failed; "error" holds the reason
 *                                   (a Python traceback when the import failed)
 *                         "pong"    alive; "active" requests, "oldest" seconds
 *                                   and "oldest_request" ("GET /x") of the
 *                                   longest-running one (the counters are on
 *                                   the child's shared page: cmn_statspage.h)
 *                         "recycle" please replace me ("reason": "max-requests")
 *                         "files"   "files": source files the app imported
 *                                   (--reload=dev watches them)
 *                         "options" a probe's answer (--factory; see
 *                                   child/chd_factory.h): the options the
 *                                   factory set and the files it watches
 */
#ifndef CMN_CTLMSG_H
#define CMN_CTLMSG_H

#include <jansson.h>
#include <stddef.h>

#define CMN_MSG_CONFIG "config"
#define CMN_MSG_STOP "stop"
#define CMN_MSG_READY "ready"
#define CMN_MSG_FATAL "fatal"
#define CMN_MSG_PING "ping"
#define CMN_MSG_PONG "pong"
#define CMN_MSG_REOPEN "reopen"
#define CMN_MSG_RECYCLE "recycle"
#define CMN_MSG_TIMEOUT "timeout" /* child: a request ran past --timeout ("request", "ran") */
#define CMN_MSG_FILES "files"
#define CMN_MSG_OPTIONS "options"
/* controller -> child: {"keys": HEX}, the TLS session ticket keys after a
 * rotation (controller/ctl_tlskeys.h) */
#define CMN_MSG_TLS_KEYS "tls_keys"

/* Largest packet either side sends; longer "error" texts are cut to fit. */
#define CMN_CTLMSG_MAX (64 * 1024)
/* Most descriptors one message carries. */
#define CMN_CTLMSG_MAX_FDS 16

/* Sends `msg` (borrowed) with `nfds` descriptors attached (borrowed: the
 * sender keeps its copies). Blocks only if the peer's queue is full.
 * Returns 0, -EMSGSIZE when the encoded message exceeds CMN_CTLMSG_MAX, or
 * another negative errno. */
int cmn_ctlmsg_send(int sock, json_t *msg, const int *fds, int nfds);

/* Receives one message. Returns a new reference to the decoded object, with
 * received descriptors stored in fds[0..*nfds) (the caller owns them; pass
 * fds = NULL to close any that arrive). Returns NULL with *err = 0 on
 * end-of-file, or *err = a negative errno (-EAGAIN on a non-blocking socket
 * with nothing queued, -EBADMSG for a packet that is not a JSON object with a
 * string "type"). */
json_t *cmn_ctlmsg_recv(int sock, int *fds, int *nfds, int *err);

/* The "type" member of a received message ("" if absent). */
const char *cmn_ctlmsg_type(json_t *msg);

#endif
