/* spawnctl: operate a running spawning controller over its admin socket.
 * Exit codes: 0 success, 1 controller unreachable or refusing, 2 usage. */
#include "adm_client.h"
#include "adm_status_table.h"
#include "adm_top.h"
#include "cmn_admin.h"
#include "cmn_version.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: spawnctl [--socket PATH | --port PORT] COMMAND\n\n"
            "commands:\n"
            "  status [--json]   the controller and its children\n"
            "  top [--interval SECONDS] [--count N]\n"
            "                    the status live, redrawn in place (q quits)\n"
            "  reload            graceful reload of all children\n"
            "  scale N|+N|-N     set, add or remove children\n"
            "  stop [--now]      graceful stop (--now: immediate)\n"
            "  reopen-logs       reopen the log files\n\n"
            "options:\n"
            "  --socket PATH     the controller's admin socket\n"
            "  --port PORT       find the socket of the controller serving PORT (default 8080)\n"
            "  --help, --version\n");
}

/* Builds the request for argv[0..argc) (the command and its arguments).
 * Returns NULL with a message on stderr for a usage error. */
static json_t *build_request(int argc, char **argv, int *as_json)
{
    const char *cmd = argv[0];
    json_t *req = json_pack("{s:i, s:s}", "version", CMN_ADMIN_PROTOCOL_VERSION, "command", cmd);
    if (strcmp(cmd, "status") == 0 && argc <= 2) {
        *as_json = argc == 2 && strcmp(argv[1], "--json") == 0;
        if (argc == 2 && !*as_json)
            goto bad;
    } else if ((strcmp(cmd, "reload") == 0 || strcmp(cmd, "reopen-logs") == 0) && argc == 1) {
    } else if (strcmp(cmd, "stop") == 0 && argc <= 2) {
        if (argc == 2 && strcmp(argv[1], "--now") != 0)
            goto bad;
        json_object_set_new(req, "now", json_boolean(argc == 2));
    } else if (strcmp(cmd, "scale") == 0 && argc == 2) {
        char *end;
        strtol(argv[1], &end, 10);
        if (!*argv[1] || *end)
            goto bad;
        json_object_set_new(req, "processes", json_string(argv[1]));
    } else {
        goto bad;
    }
    return req;
bad:
    fprintf(stderr, "spawnctl: %s: bad command or arguments (see spawnctl --help)\n", cmd);
    json_decref(req);
    return NULL;
}

/* `spawnctl top [--interval SECONDS] [--count N]`: returns the exit code. */
static int run_top(int argc, char **argv, const char *socket_path)
{
    double interval = 1.0;
    long count = 0;
    for (int i = 1; i < argc; i++) {
        char *end = NULL;
        if (strcmp(argv[i], "--interval") == 0 && i + 1 < argc) {
            interval = strtod(argv[++i], &end);
            if (*end || !(interval >= 0.1 && interval <= 3600))
                goto bad;
        } else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
            count = strtol(argv[++i], &end, 10);
            if (*end || count < 0 || count > 1000000)
                goto bad;
        } else {
            goto bad;
        }
    }
    return adm_top_run(socket_path, interval, (int)count);
bad:
    fprintf(stderr, "spawnctl: top: %s: bad argument (--interval 0.1-3600, --count N)\n",
            argv[argc - 1]);
    return 2;
}

/* Prints a successful reply for people (or the raw document with --json).
 * Returns 1, or 0 when the reply is unusable. */
static int print_reply(const char *cmd, json_t *reply, int as_json)
{
    if (strcmp(cmd, "status") == 0) {
        json_t *doc = json_object_get(reply, "status");
        if (as_json) {
            json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
            putchar('\n');
            return 1;
        }
        if (adm_status_print(stdout, doc) < 0) {
            fprintf(stderr, "spawnctl: the controller sent no status document\n");
            return 0;
        }
    } else if (strcmp(cmd, "scale") == 0) {
        printf("scaling to %d children\n", (int)json_integer_value(json_object_get(reply, "processes")));
    } else if (strcmp(cmd, "reload") == 0) {
        printf("reload started\n");
    } else if (strcmp(cmd, "stop") == 0) {
        printf("stopping\n");
    } else if (strcmp(cmd, "reopen-logs") == 0) {
        printf("log files reopened\n");
    }
    return 1;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"socket", required_argument, NULL, 's'}, {"port", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    char path[512] = "";
    int port = 8080, c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
        switch (c) {
        case 's': snprintf(path, sizeof path, "%s", optarg); break;
        case 'p': port = atoi(optarg); break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("spawnctl %s\n", SPAWNING_VERSION); return 0;
        default:
            fprintf(stderr, "spawnctl: %s: unknown option\n", argv[optind - 1]);
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "spawnctl: COMMAND missing (see spawnctl --help)\n");
        return 2;
    }
    if (!*path)
        cmn_admin_default_path(port, path, sizeof path);
    if (strcmp(argv[optind], "top") == 0)
        return run_top(argc - optind, argv + optind, path);
    int as_json = 0;
    json_t *req = build_request(argc - optind, argv + optind, &as_json);
    if (!req)
        return 2;
    char err[600];
    json_t *reply = adm_request(path, req, err, sizeof err);
    json_decref(req);
    if (!reply) {
        fprintf(stderr, "spawnctl: %s\n", err);
        return 1;
    }
    int ok = json_is_true(json_object_get(reply, "ok"));
    if (!ok) {
        const char *why = json_string_value(json_object_get(reply, "error"));
        fprintf(stderr, "spawnctl: %s\n", why ? why : "refused");
    } else {
        ok = print_reply(argv[optind], reply, as_json);
    }
    json_decref(reply);
    return ok ? 0 : 1;
}
