/* cmn_admin: see cmn_admin.h. */
#include "cmn_admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cmn_admin_default_path(int port, char *buf, size_t len)
{
    const char *dir = getenv("XDG_RUNTIME_DIR");
    if (!dir || !*dir)
        dir = "/tmp";
    snprintf(buf, len, "%s/spawning-%d.sock", dir, port);
}

void cmn_admin_default_path_named(const char *name, char *buf, size_t len)
{
    const char *dir = getenv("XDG_RUNTIME_DIR");
    if (!dir || !*dir)
        dir = "/tmp";
    char flat[256];
    size_t n = 0;
    for (const char *p = name; *p && n + 1 < sizeof flat; p++)
        if (*p != '/' || (n > 0 && flat[n - 1] != '-'))
            flat[n++] = *p == '/' ? '-' : *p;
    flat[n] = '\0';
    /* A UNIX socket path is at most 107 bytes: keep the path's end, which
     * tells servers apart. */
    const char *tail = flat[0] == '-' ? flat + 1 : flat;
    size_t keep = 64;
    if (strlen(tail) > keep)
        tail += strlen(tail) - keep;
    snprintf(buf, len, "%s/spawning-%s.sock", dir, tail);
}
