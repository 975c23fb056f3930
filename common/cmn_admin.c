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
    const char *base = strrchr(name, '/');
    snprintf(buf, len, "%s/spawning-%s.sock", dir, base ? base + 1 : name);
}
