/* chd_listeners: see chd_listeners.h. */
#include "chd_listeners.h"

#include <unistd.h>

void chd_listeners_close(chd_listeners_t *ls)
{
    for (int i = 0; i < ls->n; i++) {
        if (ls->fds[i] >= 0)
            close(ls->fds[i]);
        ls->fds[i] = -1;
    }
}

chd_tls_ctx_t *chd_listeners_tls_of(const chd_listeners_t *ls, int fd)
{
    for (int i = 0; i < ls->n; i++)
        if (ls->fds[i] == fd)
            return ls->tls[i];
    return NULL;
}
