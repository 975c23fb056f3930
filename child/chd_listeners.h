/* chd_listeners: the listening sockets a child accepts on.
 *
 * Handed over by the controller in the config message (TCP, UNIX sockets,
 * systemd's), all served alike by whichever driver runs (chd_server.c
 * threaded, chd_green.c green). A listener hands its connections what they
 * need to know of it (chd_listener_t): a TLS context where the controller
 * marked it TLS (chd_conn_tls.h), and its port, which is the SERVER_PORT of
 * their requests (a child may listen on several). */
#ifndef CHD_LISTENERS_H
#define CHD_LISTENERS_H

#include "chd_tls.h"

#define CHD_MAX_LISTENERS 16 /* CMN_CTLMSG_MAX_FDS: they arrive in one message */

/* What a connection takes from the listener that accepted it. */
typedef struct {
    chd_tls_ctx_t *tls; /* through TLS with this context; NULL: plain HTTP */
    int port;           /* its TCP port, the requests' SERVER_PORT; 0: a UNIX socket's */
} chd_listener_t;

typedef struct {
    int fds[CHD_MAX_LISTENERS]; /* -1 once closed */
    int n;
    /* TLS: the context of the child (one, shared by its TLS listeners;
     * owned by main.c); each listener's is in `each` (or NULL: plain). */
    chd_tls_ctx_t *tls_ctx;
    chd_listener_t each[CHD_MAX_LISTENERS];
} chd_listeners_t;

/* Reads each listener's port off its socket (0 for a UNIX socket). */
void chd_listeners_find_ports(chd_listeners_t *ls);

/* Closes every listening socket (idempotent). */
void chd_listeners_close(chd_listeners_t *ls);

/* The listener whose socket is fd (NULL if none is). */
const chd_listener_t *chd_listeners_of(const chd_listeners_t *ls, int fd);

#endif
