/* ctl_childconf: see ctl_childconf.h. */
#include "ctl_childconf.h"

#include "cmn_ctlmsg.h"

static json_t *string_array(const char *const *items, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_string(items[i]));
    return a;
}

static json_t *string_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* The positional arguments: APP and MIDDLEWARE without a factory. */
static json_t *positional(const ctl_config_t *cfg)
{
    json_t *args = string_array(cfg->middleware, cfg->nmiddleware);
    if (cfg->app)
        json_array_insert_new(args, 0, json_string(cfg->app));
    return args;
}

/* The dict config_factory(args) gets; the names are the original
 * Spawning's where it had them. */
static json_t *factory_options(const ctl_config_t *cfg, int server_port)
{
    json_t *o = json_object();
    json_object_set_new(o, "args", positional(cfg));
    json_object_set_new(o, "host", json_string(cfg->host));
    json_object_set_new(o, "port", json_integer(server_port));
    json_object_set_new(o, "processes", json_integer(cfg->processes));
    json_object_set_new(o, "threads", json_integer(cfg->threads));
    json_object_set_new(o, "num_processes", json_integer(cfg->processes));
    json_object_set_new(o, "threadpool_workers", json_integer(cfg->threads));
    json_object_set_new(o, "reload", cfg->reload_dev ? json_string("dev") : json_null());
    json_object_set_new(o, "watch", string_array(cfg->watch, cfg->nwatch));
    json_object_set_new(o, "deadman_timeout", json_real(cfg->deadman_timeout));
    json_object_set_new(o, "graceful_timeout", json_real(cfg->graceful_timeout));
    json_object_set_new(o, "max_memory", json_integer(cfg->max_memory));
    json_object_set_new(o, "max_age", json_real(cfg->max_age));
    json_object_set_new(o, "chdir", string_or_null(cfg->chdir));
    json_object_set_new(o, "pythonpath", string_array(cfg->pythonpath, cfg->npythonpath));
    json_object_set_new(o, "virtualenv", string_or_null(cfg->virtualenv));
    json_object_set_new(o, "coverage", json_boolean(cfg->coverage));
    json_object_set_new(o, "sysinfo", json_boolean(cfg->sysinfo));
    json_object_set_new(o, "log_level", json_string(cfg->log_level));
    return o;
}

/* The factory and the debugging aids. */
static void add_python_settings(const ctl_config_t *cfg, int server_port, json_t *m)
{
    json_object_set_new(m, "factory", string_or_null(cfg->factory));
    if (cfg->factory)
        json_object_set_new(m, "factory_options", factory_options(cfg, server_port));
    json_object_set_new(m, "coverage", json_boolean(cfg->coverage));
    json_object_set_new(m, "sysinfo", json_boolean(cfg->sysinfo));
    json_object_set_new(m, "virtualenv", string_or_null(cfg->virtualenv));
}

json_t *ctl_childconf_build(const ctl_config_t *cfg, const char *server_name, int server_port)
{
    json_t *m = json_object();
    json_object_set_new(m, "type", json_string(CMN_MSG_CONFIG));
    json_object_set_new(m, "app", string_or_null(cfg->app));
    json_object_set_new(m, "middleware", string_array(cfg->middleware, cfg->nmiddleware));
    json_object_set_new(m, "pythonpath", string_array(cfg->pythonpath, cfg->npythonpath));
    json_object_set_new(m, "chdir", string_or_null(cfg->chdir));
    json_object_set_new(m, "threads", json_integer(cfg->threads));
    json_object_set_new(m, "processes", json_integer(cfg->processes));
    json_object_set_new(m, "server_name", json_string(server_name));
    json_object_set_new(m, "server_port", json_integer(server_port));
    json_object_set_new(m, "log_level", json_string(cfg->log_level));
    json_object_set_new(m, "limit_request_line", json_integer(cfg->limit_request_line));
    json_object_set_new(m, "limit_request_fields", json_integer(cfg->limit_request_fields));
    json_object_set_new(m, "limit_request_field_size",
                        json_integer(cfg->limit_request_field_size));
    json_object_set_new(m, "limit_request_body", json_integer(cfg->limit_request_body));
    json_object_set_new(m, "header_timeout", json_real(cfg->header_timeout));
    json_object_set_new(m, "keepalive", json_real(cfg->keepalive));
    json_object_set_new(m, "body_timeout", json_real(cfg->body_timeout));
    json_object_set_new(m, "graceful_timeout", json_real(cfg->graceful_timeout));
    json_object_set_new(m, "timeout", json_real(cfg->timeout));
    json_object_set_new(m, "forwarded_allow_ips", json_string(cfg->forwarded_allow_ips));
    json_object_set_new(m, "proxy_protocol", json_boolean(cfg->proxy_protocol));
    json_object_set_new(m, "max_requests", json_integer(cfg->max_requests));
    json_object_set_new(m, "report_files", json_boolean(cfg->reload_dev));
    json_object_set_new(m, "stdout", string_or_null(cfg->stdout_path));
    json_object_set_new(m, "stderr", string_or_null(cfg->stderr_path));
    json_object_set_new(m, "access_log", string_or_null(cfg->access_log));
    json_object_set_new(m, "access_log_format", string_or_null(cfg->access_log_format));
    add_python_settings(cfg, server_port, m);
    return m;
}

static json_t *tls_settings(const ctl_config_t *cfg)
{
    if (cfg->ncertfile == 0)
        return json_null();
    json_t *keyfiles = json_array();
    for (int i = 0; i < cfg->ncertfile; i++)
        json_array_append_new(keyfiles, string_or_null(cfg->nkeyfile ? cfg->keyfile[i] : NULL));
    return json_pack("{s:o, s:o, s:o, s:b, s:o}", "certfiles",
                     string_array(cfg->certfile, cfg->ncertfile), "keyfiles", keyfiles,
                     "ca_certs", string_or_null(cfg->ca_certs), "verify_client",
                     cfg->verify_client, "ciphers", string_or_null(cfg->ciphers));
}

void ctl_childconf_add_tls(json_t *conf, const ctl_config_t *cfg, const ctl_listeners_t *ls,
                           const ctl_tlskeys_t *keys)
{
    json_t *which = json_array();
    for (int i = 0; i < ls->n; i++)
        json_array_append_new(which, json_boolean(ls->items[i].bind.tls));
    json_object_set_new(conf, "tls", tls_settings(cfg));
    json_object_set_new(conf, "listener_tls", which);
    json_object_set_new(conf, "ticket_keys", ctl_tlskeys_json(keys));
}
