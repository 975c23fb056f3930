/* ctl_statushttp: see ctl_statushttp.h. */
#include "ctl_statushttp.h"

#include "ctl_metrics.h"
#include "ctl_miniserver.h"
#include "ctl_status_html.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STATUS_REFRESH_SECONDS 5

struct ctl_statushttp {
    ctl_ops_t ops;
    ctl_miniserver_t *server;
};

static void respond_bytes(cmn_buf_t *reply, int status, const char *reason, const char *type,
                          const char *body, size_t len, bool head_only)
{
    cmn_buf_appendf(reply,
                    "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                    "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
                    status, reason, type, len);
    if (!head_only)
        cmn_buf_append(reply, body, len);
}

static void respond(cmn_buf_t *reply, int status, const char *reason, const char *type,
                    const char *body, bool head_only)
{
    respond_bytes(reply, status, reason, type, body, strlen(body), head_only);
}

static void respond_metrics(const ctl_ops_t *ops, cmn_buf_t *reply, bool head)
{
    cmn_buf_t text = CMN_BUF_INIT;
    ops->metrics(ops->ctx, &text);
    respond_bytes(reply, 200, "OK", CTL_METRICS_CONTENT_TYPE, cmn_buf_head(&text),
                  cmn_buf_unread(&text), head);
    cmn_buf_free(&text);
}

/* /readyz: the /healthz verdict as its status, the detail as JSON. */
static void respond_readiness(const ctl_ops_t *ops, cmn_buf_t *reply, bool head)
{
    json_t *detail = ops->readiness(ops->ctx);
    bool ok = json_is_true(json_object_get(detail, "ready"));
    char *body = json_dumps(detail, JSON_SORT_KEYS);
    respond(reply, ok ? 200 : 503, ok ? "OK" : "Service Unavailable", "application/json",
            body ? body : "{}", head);
    free(body);
    json_decref(detail);
}

/* Serves one request; the connection closes after the reply. */
static bool handle(void *arg, int peer_fd, const char *request, size_t len, cmn_buf_t *reply)
{
    (void)peer_fd;
    (void)len;
    const ctl_ops_t *ops = &((ctl_statushttp_t *)arg)->ops;
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
        bool ok = ops->healthy(ops->ctx);
        respond(reply, ok ? 200 : 503, ok ? "OK" : "Service Unavailable", "text/plain",
                ok ? "ok\n" : ops->stopping(ops->ctx) ? "stopping\n" : "no ready child\n", head);
    } else if (strcmp(target, "/readyz") == 0) {
        respond_readiness(ops, reply, head);
    } else if (strcmp(target, "/metrics") == 0) {
        respond_metrics(ops, reply, head);
    } else if (strcmp(target, "/status.json") == 0 || strcmp(target, "/status") == 0) {
        json_t *doc = ops->status(ops->ctx);
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

ctl_statushttp_t *ctl_statushttp_start(struct ev_loop *loop, ctl_servicesocks_t *socks,
                                       const ctl_ops_t *ops, char *err, size_t errlen)
{
    ctl_statushttp_t *service = calloc(1, sizeof *service);
    if (service) {
        service->ops = *ops;
        service->server = ctl_miniserver_start(loop, socks->status_fd, "\r\n\r\n", handle,
                                               service);
    }
    if (!service || !service->server) {
        snprintf(err, errlen, "out of memory");
        free(service);
        return NULL;
    }
    socks->status_fd = -1;
    return service;
}

void ctl_statushttp_stop(ctl_statushttp_t *service)
{
    if (!service)
        return;
    ctl_miniserver_stop(service->server);
    free(service);
}
