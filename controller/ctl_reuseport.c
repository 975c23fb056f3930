/* ctl_reuseport: see ctl_reuseport.h. */
#include "ctl_reuseport.h"

#include "ctl_listen.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void ctl_reuseport_init(ctl_reuseport_t *pool, const char *host, int port)
{
    pool->host = host;
    pool->port = port;
    pool->fds = NULL;
    pool->nslots = 0;
}

static int grow(ctl_reuseport_t *pool, int nslots)
{
    int *fds = realloc(pool->fds, (size_t)nslots * sizeof *fds);
    if (!fds)
        return -ENOMEM;
    for (int i = pool->nslots; i < nslots; i++)
        fds[i] = -1;
    pool->fds = fds;
    pool->nslots = nslots;
    return 0;
}

int ctl_reuseport_fd(ctl_reuseport_t *pool, int slot, char *err, size_t errlen)
{
    if (slot < 0) {
        snprintf(err, errlen, "no socket slot %d", slot);
        return -EINVAL;
    }
    if (slot >= pool->nslots && grow(pool, slot + 1) < 0) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    if (pool->fds[slot] < 0) {
        int bound;
        pool->fds[slot] = ctl_listen_tcp_flags(pool->host, pool->port, CTL_LISTEN_REUSEPORT,
                                               &bound, err, errlen);
    }
    return pool->fds[slot];
}

void ctl_reuseport_shrink(ctl_reuseport_t *pool, int nslots)
{
    for (int i = nslots; i < pool->nslots; i++) {
        if (pool->fds[i] >= 0)
            close(pool->fds[i]);
        pool->fds[i] = -1;
    }
    if (nslots < pool->nslots)
        pool->nslots = nslots < 0 ? 0 : nslots;
}

void ctl_reuseport_free(ctl_reuseport_t *pool)
{
    ctl_reuseport_shrink(pool, 0);
    free(pool->fds);
    pool->fds = NULL;
}
