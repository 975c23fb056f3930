/* chd_listeners: the listening sockets a child accepts on.
 *
 * Handed over by the controller in the config message (TCP, UNIX sockets,
 * systemd's), all served alike by whichever driver runs (chd_server.c
 * threaded, chd_green.c green); those the controller marked TLS hand their
 * connections a TLS context (chd_conn_tls.h). */
#ifndef CHD_LISTENERS_H
#define CHD_LISTENERS_H

#include "chd_tls.h"

#define CHD_MAX_LISTENERS 16 /* CMN_CTLMSG_MAX_FDS: they arrive in one message */

typedef struct {
    int fds[CHD_MAX_LISTENERS]; /* -1 once closed */
    int n;
    /* TLS: the context of the child (one, shared by its TLS listeners;
     * owned by main.c), and per listener that context or NULL (plain). */
    chd_tls_ctx_t *tls_ctx;
    chd_tls_ctx_t *tls[CHD_MAX_LISTENERS];
} chd_listeners_t;

/* Closes every listening socket (idempotent). */
void chd_listeners_close(chd_listeners_t *ls);

/* The TLS context of the listener whose socket is fd; NULL: plain HTTP. */
chd_tls_ctx_t *chd_listeners_tls_of(const chd_listeners_t *ls, int fd);

#endif
