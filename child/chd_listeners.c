/* chd_listeners: see chd_listeners.h. */
#include "chd_listeners.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

void chd_listeners_close(chd_listeners_t *ls)
{
    for (int i = 0; i < ls->n; i++) {
        if (ls->fds[i] >= 0)
            close(ls->fds[i]);
        ls->fds[i] = -1;
    }
}

void chd_listeners_find_ports(chd_listeners_t *ls)
{
    for (int i = 0; i < ls->n; i++) {
        struct sockaddr_storage addr;
        socklen_t len = sizeof addr;
        ls->each[i].port = 0;
        if (getsockname(ls->fds[i], (struct sockaddr *)&addr, &len) < 0)
            continue;
        if (addr.ss_family == AF_INET)
            ls->each[i].port = ntohs(((struct sockaddr_in *)&addr)->sin_port);
        else if (addr.ss_family == AF_INET6)
            ls->each[i].port = ntohs(((struct sockaddr_in6 *)&addr)->sin6_port);
    }
}

const chd_listener_t *chd_listeners_of(const chd_listeners_t *ls, int fd)
{
    for (int i = 0; i < ls->n; i++)
        if (ls->fds[i] == fd)
            return &ls->each[i];
    return NULL;
}
