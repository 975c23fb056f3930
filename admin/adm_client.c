/* adm_client: see adm_client.h. */
#include "adm_client.h"

#include "cmn_buf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define REPLY_MAX (1024 * 1024)


static int connect_unix(const char *path, char *err, size_t errlen)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sun.sun_path) {
        snprintf(err, errlen, "socket path too long: %s", path);
        return -1;
    }
    strcpy(sun.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
        snprintf(err, errlen, "cannot reach the controller at %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Reads up to the first newline (or EOF). */
static int read_line(int fd, cmn_buf_t *line)
{
    for (;;) {
        if (cmn_buf_reserve(line, 4096) < 0)
            return -ENOMEM;
        ssize_t n = read(fd, line->data + line->len, line->cap - line->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return 0;
        char *nl = memchr(line->data + line->len, '\n', (size_t)n);
        line->len += (size_t)n;
        if (nl || line->len > REPLY_MAX)
            return 0;
    }
}

json_t *adm_request(const char *socket_path, json_t *request, char *err, size_t errlen)
{
    int fd = connect_unix(socket_path, err, errlen);
    if (fd < 0)
        return NULL;
    char *text = json_dumps(request, JSON_COMPACT);
    size_t len = text ? strlen(text) : 0;
    json_t *reply = NULL;
    cmn_buf_t line = CMN_BUF_INIT;
    if (text && write(fd, text, len) == (ssize_t)len && write(fd, "\n", 1) == 1 &&
        read_line(fd, &line) == 0) {
        json_error_t jerr;
        reply = json_loadb(line.data ? line.data : "", line.len, JSON_DISABLE_EOF_CHECK, &jerr);
        if (!reply || !json_is_object(reply)) {
            snprintf(err, errlen, "the controller sent a malformed reply");
            json_decref(reply);
            reply = NULL;
        }
    } else {
        snprintf(err, errlen, "lost the connection to the controller at %s", socket_path);
    }
    free(text);
    cmn_buf_free(&line);
    close(fd);
    return reply;
}
