/* ctl_childconf: what a child is told at start-up.
 *
 * Builds the body of the CMN_MSG_CONFIG message (common/cmn_ctlmsg.h) from
 * the controller's settings: everything a child needs to load the app and
 * serve, and nothing it does not. child/chd_config.c reads the same
 * members; the two files are the two ends of that contract. */
#ifndef CTL_CHILDCONF_H
#define CTL_CHILDCONF_H

#include "ctl_listeners.h"
#include "ctl_options.h"
#include "ctl_tlskeys.h"

#include <jansson.h>

/* The config message (new reference). server_name and server_port are
 * SERVER_NAME and SERVER_PORT (the first address's host and the port
 * actually bound: the config may say 0). "max_requests" is --max-requests
 * without the jitter; the supervisor sets each child's own. With
 * --factory, "factory_options" is the dict the factory is called with:
 * "args" (the positional arguments), "host", "port" (= server_port),
 * "processes", "threads", "num_processes", "threadpool_workers", "reload",
 * "watch", ... (see README, Factories). */
json_t *ctl_childconf_build(const ctl_config_t *cfg, const char *server_name, int server_port);

/* Adds TLS to a config message: "tls" (null, or certfiles, keyfiles, with
 * null for a key inside its certificate file, ca_certs, verify_client,
 * ciphers), "listener_tls" (one boolean per listener, in the order their
 * descriptors ride) and "ticket_keys" (ctl_tlskeys_json). */
void ctl_childconf_add_tls(json_t *conf, const ctl_config_t *cfg, const ctl_listeners_t *ls,
                           const ctl_tlskeys_t *keys);

#endif
