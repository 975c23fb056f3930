/* cmn_admin: what the controller's admin socket and spawnctl agree on.
 *
 * The protocol: over a UNIX stream socket, one JSON object per line each
 * way. A request is {"version": 1, "command": NAME, ...}; a reply is
 * {"ok": true, ...} or {"ok": false, "error": "..."}. Commands:
 *   status                          -> {"ok": true, "status": DOCUMENT}
 *   reload                          -> {"ok": true}
 *   scale {"processes": "N"|"+N"|"-N"} -> {"ok": true, "processes": N}
 *   stop {"now": false|true}        -> {"ok": true}
 *   reopen-logs                     -> {"ok": true}
 * The socket is created mode 0600 and the controller only answers peers
 * with its own uid or root (SO_PEERCRED). */
#ifndef CMN_ADMIN_H
#define CMN_ADMIN_H

#include <stddef.h>

#define CMN_ADMIN_PROTOCOL_VERSION 1

/* The socket path of a controller serving `port` when --admin-socket is
 * not given: $XDG_RUNTIME_DIR/spawning-PORT.sock, else
 * /tmp/spawning-PORT.sock. */
void cmn_admin_default_path(int port, char *buf, size_t len);

/* The same for a server whose first address is not a TCP port (a UNIX
 * socket): spawning-NAME.sock, NAME being the socket's whole path with '/'
 * as '-' ("/run/app.sock": spawning-run-app.sock.sock; the last 64 bytes
 * of a longer one), so two servers on different paths do not share one. */
void cmn_admin_default_path_named(const char *name, char *buf, size_t len);

#endif
