/* chd_listeners: the listening sockets a child accepts on.
 *
 * Handed over by the controller in the config message (TCP, UNIX sockets,
 * systemd's), all served alike by whichever driver runs (chd_server.c
 * threaded, chd_green.c green). */
#ifndef CHD_LISTENERS_H
#define CHD_LISTENERS_H

#define CHD_MAX_LISTENERS 16 /* CMN_CTLMSG_MAX_FDS: they arrive in one message */

typedef struct {
    int fds[CHD_MAX_LISTENERS]; /* -1 once closed */
    int n;
} chd_listeners_t;

/* Closes every listening socket (idempotent). */
void chd_listeners_close(chd_listeners_t *ls);

#endif
