/* chd_config: see chd_config.h. */
#include "chd_config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int get_string(json_t *msg, const char *key, bool nullable, char **out, char *err,
                      size_t errlen)
{
    json_t *v = json_object_get(msg, key);
    if (nullable && (!v || json_is_null(v))) {
        *out = NULL;
        return 0;
    }
    if (!json_is_string(v)) {
        snprintf(err, errlen, "config: '%s' must be a string", key);
        return -EINVAL;
    }
    *out = strdup(json_string_value(v));
    return *out ? 0 : -ENOMEM;
}

static int get_list(json_t *msg, const char *key, char **items, int *n, char *err, size_t errlen)
{
    json_t *a = json_object_get(msg, key);
    *n = 0;
    if (!json_is_array(a) || json_array_size(a) > CHD_MAX_LIST) {
        snprintf(err, errlen, "config: '%s' must be a list of at most %d", key, CHD_MAX_LIST);
        return -EINVAL;
    }
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        if (!json_is_string(v)) {
            snprintf(err, errlen, "config: '%s' must hold strings", key);
            return -EINVAL;
        }
        items[(*n)++] = strdup(json_string_value(v));
    }
    return 0;
}

static int get_number(json_t *msg, const char *key, double lo, double hi, double *out, char *err,
                      size_t errlen)
{
    json_t *v = json_object_get(msg, key);
    if (!json_is_number(v) || json_number_value(v) < lo || json_number_value(v) > hi) {
        snprintf(err, errlen, "config: '%s' must be a number in [%g, %g]", key, lo, hi);
        return -EINVAL;
    }
    *out = json_number_value(v);
    return 0;
}

static int get_limits(json_t *msg, chd_limits_t *l, char *err, size_t errlen)
{
    double line, fields, field_size, body;
    int rc = get_number(msg, "limit_request_line", 0, 1 << 20, &line, err, errlen);
    if (rc == 0) rc = get_number(msg, "limit_request_fields", 1, 32768, &fields, err, errlen);
    if (rc == 0) rc = get_number(msg, "limit_request_field_size", 0, 1 << 20, &field_size, err, errlen);
    if (rc == 0) rc = get_number(msg, "limit_request_body", 0, 9e18, &body, err, errlen);
    l->request_line = (uint32_t)line;
    l->fields = (uint32_t)fields;
    l->field_size = (uint32_t)field_size;
    l->body = (uint64_t)body;
    return rc;
}

static int get_iplist(json_t *msg, const char *key, cmn_iplist_t *list, char *err, size_t errlen)
{
    const char *text = json_string_value(json_object_get(msg, key));
    char why[128];
    if (!text || cmn_iplist_parse(text, list, why, sizeof why) < 0) {
        snprintf(err, errlen, "config: '%s': %s", key, text ? why : "missing");
        return -EINVAL;
    }
    return 0;
}

static int get_int(json_t *msg, const char *key, int *out, char *err, size_t errlen)
{
    json_t *v = json_object_get(msg, key);
    if (!json_is_integer(v)) {
        snprintf(err, errlen, "config: '%s' must be an integer", key);
        return -EINVAL;
    }
    *out = (int)json_integer_value(v);
    return 0;
}

/* The factory's options dict, --coverage, --sysinfo, --virtualenv, probe. */
static int get_factory_settings(json_t *msg, chd_config_t *cfg, char *err, size_t errlen)
{
    json_t *opts = json_object_get(msg, "factory_options");
    if (cfg->factory && !json_is_object(opts)) {
        snprintf(err, errlen, "config: 'factory_options' must be an object");
        return -EINVAL;
    }
    cfg->factory_options = cfg->factory ? json_incref(opts) : NULL;
    cfg->probe = json_is_true(json_object_get(msg, "probe"));
    cfg->coverage = json_is_true(json_object_get(msg, "coverage"));
    cfg->sysinfo = json_is_true(json_object_get(msg, "sysinfo"));
    return get_string(msg, "virtualenv", true, &cfg->virtualenv, err, errlen);
}

static int bad_tls(const char *what, char *err, size_t errlen)
{
    snprintf(err, errlen, "config: 'tls': %s", what);
    return -EINVAL;
}

/* "certfiles" and "keyfiles" (a null key: inside its certificate file). */
static int get_tls_files(json_t *tls, chd_config_t *cfg, char *err, size_t errlen)
{
    json_t *certs = json_object_get(tls, "certfiles"), *keys = json_object_get(tls, "keyfiles");
    size_t n = json_array_size(certs);
    if (n < 1 || n > CHD_TLS_MAX_CERTS || json_array_size(keys) != n)
        return bad_tls("certfiles and keyfiles must be lists of the same length", err, errlen);
    for (size_t i = 0; i < n; i++) {
        json_t *c = json_array_get(certs, i), *k = json_array_get(keys, i);
        if (!json_is_string(c) || !(json_is_string(k) || json_is_null(k)))
            return bad_tls("file names must be strings", err, errlen);
        cfg->tls.certfile[i] = strdup(json_string_value(c));
        cfg->tls.keyfile[i] = k && json_is_string(k) ? strdup(json_string_value(k)) : NULL;
        cfg->tls.ncerts++;
    }
    return 0;
}

/* "tls", "listener_tls", "ticket_keys" (controller/ctl_childconf.h). */
static int get_tls(json_t *msg, chd_config_t *cfg, char *err, size_t errlen)
{
    json_t *tls = json_object_get(msg, "tls"), *which = json_object_get(msg, "listener_tls");
    if (!tls || json_is_null(tls))
        return 0;
    if (!json_is_object(tls) || !json_is_array(which) ||
        json_array_size(which) > CHD_MAX_LISTENERS)
        return bad_tls("must be an object, with listener_tls a list", err, errlen);
    int rc = get_tls_files(tls, cfg, err, errlen);
    if (rc == 0) rc = get_string(tls, "ca_certs", true, &cfg->tls.ca_certs, err, errlen);
    if (rc == 0) rc = get_string(tls, "ciphers", true, &cfg->tls.ciphers, err, errlen);
    if (rc == 0) rc = get_string(msg, "ticket_keys", false, &cfg->tls.ticket_keys, err, errlen);
    cfg->tls.verify_client = json_is_true(json_object_get(tls, "verify_client"));
    for (size_t i = 0; i < json_array_size(which); i++) {
        cfg->tls.on_listener[i] = json_is_true(json_array_get(which, i));
        cfg->tls.enabled |= cfg->tls.on_listener[i];
    }
    return rc;
}

chd_tls_settings_t chd_config_tls_settings(const chd_config_t *cfg)
{
    chd_tls_settings_t s = {.ncerts = cfg->tls.ncerts, .ca_certs = cfg->tls.ca_certs,
                            .verify_client = cfg->tls.verify_client, .ciphers = cfg->tls.ciphers};
    for (int i = 0; i < cfg->tls.ncerts; i++) {
        s.certfile[i] = cfg->tls.certfile[i];
        s.keyfile[i] = cfg->tls.keyfile[i];
    }
    return s;
}

int chd_config_from_json(json_t *msg, chd_config_t *cfg, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    int rc = 0;
    if (rc == 0) rc = get_string(msg, "factory", true, &cfg->factory, err, errlen);
    if (rc == 0) rc = get_string(msg, "app", cfg->factory != NULL, &cfg->app, err, errlen);
    if (rc == 0) rc = get_string(msg, "chdir", true, &cfg->chdir, err, errlen);
    if (rc == 0) rc = get_string(msg, "server_name", false, &cfg->server_name, err, errlen);
    if (rc == 0) rc = get_string(msg, "log_level", false, &cfg->log_level, err, errlen);
    if (rc == 0) rc = get_list(msg, "middleware", cfg->middleware, &cfg->nmiddleware, err, errlen);
    if (rc == 0) rc = get_list(msg, "pythonpath", cfg->pythonpath, &cfg->npythonpath, err, errlen);
    if (rc == 0) rc = get_int(msg, "threads", &cfg->threads, err, errlen);
    if (rc == 0) rc = get_int(msg, "processes", &cfg->processes, err, errlen);
    if (rc == 0) rc = get_int(msg, "server_port", &cfg->server_port, err, errlen);
    if (rc == 0) rc = get_limits(msg, &cfg->limits, err, errlen);
    if (rc == 0) rc = get_number(msg, "header_timeout", 0.001, 1e7, &cfg->header_timeout, err, errlen);
    if (rc == 0) rc = get_number(msg, "keepalive", 0, 1e7, &cfg->keepalive, err, errlen);
    if (rc == 0) rc = get_number(msg, "body_timeout", 0.001, 1e7, &cfg->body_timeout, err, errlen);
    cfg->graceful_timeout = -1;
    if (rc == 0 && json_object_get(msg, "graceful_timeout"))
        rc = get_number(msg, "graceful_timeout", 0, 1e7, &cfg->graceful_timeout, err, errlen);
    cfg->timeout = 0;
    if (rc == 0 && json_object_get(msg, "timeout"))
        rc = get_number(msg, "timeout", 0, 1e7, &cfg->timeout, err, errlen);
    if (rc == 0) rc = get_iplist(msg, "forwarded_allow_ips", &cfg->trusted_proxies, err, errlen);
    if (rc == 0) cfg->proxy_protocol = json_is_true(json_object_get(msg, "proxy_protocol"));
    if (rc == 0) {
        double max_requests;
        rc = get_number(msg, "max_requests", 0, 9e18, &max_requests, err, errlen);
        cfg->max_requests = (long long)max_requests;
    }
    if (rc == 0) cfg->report_files = json_is_true(json_object_get(msg, "report_files"));
    if (rc == 0) rc = get_string(msg, "stdout", true, &cfg->stdout_path, err, errlen);
    if (rc == 0) rc = get_string(msg, "stderr", true, &cfg->stderr_path, err, errlen);
    if (rc == 0) rc = get_factory_settings(msg, cfg, err, errlen);
    if (rc == 0) rc = get_string(msg, "access_log", true, &cfg->access_log, err, errlen);
    if (rc == 0) rc = get_string(msg, "access_log_format", true, &cfg->access_log_format, err, errlen);
    cfg->stats_fd = -1;
    if (rc == 0 && json_object_get(msg, "stats_fd"))
        rc = get_int(msg, "stats_fd", &cfg->stats_fd, err, errlen);
    if (rc == 0) rc = get_tls(msg, cfg, err, errlen);
    if (rc == 0 && cfg->threads < 0) {
        snprintf(err, errlen, "config: threads must be 0 (green) or more");
        rc = -EINVAL;
    }
    return rc;
}

void chd_config_free(chd_config_t *cfg)
{
    free(cfg->app);
    free(cfg->chdir);
    free(cfg->server_name);
    free(cfg->log_level);
    free(cfg->stdout_path);
    free(cfg->stderr_path);
    free(cfg->factory);
    free(cfg->virtualenv);
    json_decref(cfg->factory_options);
    free(cfg->access_log);
    free(cfg->access_log_format);
    for (int i = 0; i < cfg->nmiddleware; i++)
        free(cfg->middleware[i]);
    for (int i = 0; i < cfg->npythonpath; i++)
        free(cfg->pythonpath[i]);
    for (int i = 0; i < cfg->tls.ncerts; i++) {
        free(cfg->tls.certfile[i]);
        free(cfg->tls.keyfile[i]);
    }
    free(cfg->tls.ca_certs);
    free(cfg->tls.ciphers);
    free(cfg->tls.ticket_keys);
    memset(cfg, 0, sizeof *cfg);
}
