/* ctl_statushttp: see ctl_statushttp.h. */
#include "ctl_statushttp.h"

#include "ctl_listen.h"
#include "ctl_shutdown.h"
#include "ctl_miniserver.h"
#include "ctl_status.h"
#include "ctl_status_html.h"
#include "ctl_supervisor_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATUS_REFRESH_SECONDS 5

static void respond(cmn_buf_t *reply, int status, const char *reason, const char *type,
                    const char *body, bool head_only)
{
    size_t len = strlen(body);
    cmn_buf_appendf(reply,
                    "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                    "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
                    status, reason, type, len);
    if (!head_only)
        cmn_buf_append(reply, body, len);
}

/* Serves one request; the connection closes after the reply. */
static bool handle(void *arg, int peer_fd, const char *request, size_t len, cmn_buf_t *reply)
{
    (void)peer_fd;
    (void)len;
    ctl_supervisor_t *sup = arg;
    char method[8] = "", target[256] = "";
    if (sscanf(request, "%7s %255s", method, target) != 2) {
        respond(reply, 400, "Bad Request", "text/plain", "bad request\n", false);
        return false;
    }
    bool head = strcmp(method, "HEAD") == 0;
    char *query = strchr(target, '?');
    if (query)
        *query = '\0';
    if (!head && strcmp(method, "GET") != 0) {
        respond(reply, 405, "Method Not Allowed", "text/plain", "GET or HEAD only\n", false);
    } else if (strcmp(target, "/healthz") == 0) {
        bool ok = ctl_status_healthy(sup);
        respond(reply, ok ? 200 : 503, ok ? "OK" : "Service Unavailable", "text/plain",
                ok ? "ok\n" : ctl_shutdown_announced(sup) ? "stopping\n" : "no ready child\n", head);
    } else if (strcmp(target, "/status.json") == 0 || strcmp(target, "/status") == 0) {
        json_t *doc = ctl_status_document(sup);
        bool json = strcmp(target, "/status.json") == 0;
        char *body = json ? json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS)
                          : ctl_status_html(doc, STATUS_REFRESH_SECONDS);
        respond(reply, 200, "OK", json ? "application/json" : "text/html; charset=utf-8",
                body ? body : "", head);
        free(body);
        json_decref(doc);
    } else {
        respond(reply, 404, "Not Found", "text/plain", "not found: try /status\n", head);
    }
    return false;
}

int ctl_statushttp_start(ctl_supervisor_t *sup, const char *host, int port, char *err,
                         size_t errlen)
{
    int bound;
    int fd = ctl_listen_tcp(host, port, &bound, err, errlen);
    if (fd < 0)
        return fd;
    sup->status_http = ctl_miniserver_start(sup->loop, fd, "\r\n\r\n", handle, sup);
    return 0;
}

void ctl_statushttp_stop(ctl_supervisor_t *sup)
{
    ctl_miniserver_stop(sup->status_http);
    sup->status_http = NULL;
}
