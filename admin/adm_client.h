/* adm_client: spawnctl's side of the admin socket (protocol: cmn_admin.h).
 * One request, one reply, per connection. */
#ifndef ADM_CLIENT_H
#define ADM_CLIENT_H

#include <jansson.h>
#include <stddef.h>


/* Sends `request` (borrowed) and returns the reply (new reference), or NULL
 * with a one-line reason in err when the controller cannot be reached or
 * answers with something that is not JSON. */
json_t *adm_request(const char *socket_path, json_t *request, char *err, size_t errlen);

#endif
