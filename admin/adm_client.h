/* adm_client: spawnctl's side of the admin socket.
 *
 * The protocol is one JSON object per line each way over the controller's
 * admin UNIX socket: spawnctl sends {"version": 1, "command": NAME, ...} and
 * reads one reply, {"ok": true, ...} or {"ok": false, "error": "..."}. */
#ifndef ADM_CLIENT_H
#define ADM_CLIENT_H

#include <jansson.h>
#include <stddef.h>

#define ADM_PROTOCOL_VERSION 1

/* The socket path a controller on `port` uses by default. */
void adm_default_socket_path(int port, char *buf, size_t len);

/* Sends `request` (borrowed) and returns the reply (new reference), or NULL
 * with a one-line reason in err when the controller cannot be reached or
 * answers with something that is not JSON. */
json_t *adm_request(const char *socket_path, json_t *request, char *err, size_t errlen);

#endif
