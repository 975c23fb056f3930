/* cmn_ctlmsg: see cmn_ctlmsg.h. */
#include "cmn_ctlmsg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int cmn_ctlmsg_send(int sock, json_t *msg, const int *fds, int nfds)
{
    if (nfds < 0 || nfds > CMN_CTLMSG_MAX_FDS)
        return -EINVAL;
    char *text = json_dumps(msg, JSON_COMPACT);
    if (!text)
        return -ENOMEM;
    size_t len = strlen(text);
    if (len > CMN_CTLMSG_MAX) {
        free(text);
        return -EMSGSIZE;
    }
    struct iovec iov = {text, len};
    union {
        char buf[CMSG_SPACE(sizeof(int) * CMN_CTLMSG_MAX_FDS)];
        struct cmsghdr align;
    } control;
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    if (nfds > 0) {
        memset(&control, 0, sizeof control);
        mh.msg_control = control.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
        memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfds);
    }
    ssize_t n;
    do
        n = sendmsg(sock, &mh, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    int rc = n < 0 ? -errno : 0;
    free(text);
    return rc;
}

/* Moves the SCM_RIGHTS descriptors of `mh` into fds (or closes them). */
static void take_fds(struct msghdr *mh, int *fds, int *nfds)
{
    int count = 0;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        int received[CMN_CTLMSG_MAX_FDS];
        if (n > CMN_CTLMSG_MAX_FDS)
            n = CMN_CTLMSG_MAX_FDS;
        memcpy(received, CMSG_DATA(cm), n * sizeof(int));
        for (size_t i = 0; i < n; i++) {
            if (fds && count < CMN_CTLMSG_MAX_FDS)
                fds[count++] = received[i];
            else
                close(received[i]);
        }
    }
    if (nfds)
        *nfds = count;
}

json_t *cmn_ctlmsg_recv(int sock, int *fds, int *nfds, int *err)
{
    char *buf = malloc(CMN_CTLMSG_MAX + 1);
    if (!buf) {
        *err = -ENOMEM;
        return NULL;
    }
    union {
        char buf[CMSG_SPACE(sizeof(int) * CMN_CTLMSG_MAX_FDS)];
        struct cmsghdr align;
    } control;
    struct iovec iov = {buf, CMN_CTLMSG_MAX};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
                        .msg_control = control.buf, .msg_controllen = sizeof control.buf};
    ssize_t n;
    do
        n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (nfds)
        *nfds = 0;
    if (n <= 0) {
        *err = n < 0 ? -errno : 0;
        free(buf);
        return NULL;
    }
    take_fds(&mh, fds, nfds);
    json_t *msg = json_loadb(buf, (size_t)n, 0, NULL);
    free(buf);
    if (!msg || !json_is_object(msg) || !json_is_string(json_object_get(msg, "type"))) {
        json_decref(msg);
        *err = -EBADMSG;
        return NULL;
    }
    *err = 0;
    return msg;
}

const char *cmn_ctlmsg_type(json_t *msg)
{
    const char *t = json_string_value(json_object_get(msg, "type"));
    return t ? t : "";
}
