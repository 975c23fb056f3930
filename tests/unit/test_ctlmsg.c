/* Unit tests for common/cmn_ctlmsg.h: messages over a SOCK_SEQPACKET pair. */
#include "cmn_ctlmsg.h"
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>

static int make_pair(int sv[2])
{
    int rc = socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv);
    CHECK_EQ_INT(rc, 0);
    return rc;
}

static void close_pair(int sv[2])
{
    close(sv[0]);
    close(sv[1]);
}

/* Number of descriptors this process has open. */
static int count_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory's own descriptor */
}

/* A JSON object {"type": "x", "pad": "aaa..."} whose compact text is
 * exactly `size` bytes. */
static json_t *message_of_size(size_t size)
{
    const size_t overhead = strlen("{\"type\":\"x\",\"pad\":\"\"}");
    char *pad = malloc(size - overhead + 1);
    memset(pad, 'a', size - overhead);
    pad[size - overhead] = '\0';
    json_t *m = json_pack("{s:s, s:s}", "type", "x", "pad", pad);
    free(pad);
    return m;
}

TEST(round_trip_with_pipe_fd)
{
    int sv[2], pfd[2];
    if (make_pair(sv) < 0)
        return;
    CHECK_EQ_INT(pipe(pfd), 0);
    json_t *msg = json_pack("{s:s, s:i, s:s, s:[s,s]}", "type", CMN_MSG_CONFIG, "threads", 4,
                            "name", "caf\xc3\xa9", "list", "a", "b");
    CHECK_EQ_INT(cmn_ctlmsg_send(sv[0], msg, &pfd[1], 1), 0);
    json_decref(msg);

    int fds[CMN_CTLMSG_MAX_FDS];
    int nfds = -1, err = 123;
    json_t *got = cmn_ctlmsg_recv(sv[1], fds, &nfds, &err);
    CHECK(got != NULL);
    CHECK_EQ_INT(err, 0);
    CHECK_EQ_INT(nfds, 1);
    if (got) {
        CHECK_EQ_STR(cmn_ctlmsg_type(got), "config");
        CHECK_EQ_INT(json_integer_value(json_object_get(got, "threads")), 4);
        CHECK_EQ_STR(json_string_value(json_object_get(got, "name")), "caf\xc3\xa9");
        CHECK_EQ_INT(json_array_size(json_object_get(got, "list")), 2);
        json_decref(got);
    }
    if (nfds == 1) {
        /* the sender still has its copy; the received one is a new fd */
        CHECK(fds[0] != pfd[1]);
        CHECK(fcntl(fds[0], F_GETFD) >= 0);
        CHECK_EQ_INT(write(fds[0], "ping", 4), 4);
        close(fds[0]);
        CHECK_EQ_INT(write(pfd[1], "!", 1), 1);
        char buf[8] = {0};
        CHECK_EQ_INT(read(pfd[0], buf, sizeof buf), 5);
        CHECK_MEM(buf, 5, "ping!");
    }
    close(pfd[0]);
    close(pfd[1]);
    close_pair(sv);
}

TEST(several_fds_and_no_fds)
{
    int sv[2];
    if (make_pair(sv) < 0)
        return;
    int p1[2], p2[2];
    CHECK_EQ_INT(pipe(p1), 0);
    CHECK_EQ_INT(pipe(p2), 0);
    int send_fds[3] = {p1[1], p2[1], p1[1]};
    json_t *msg = json_pack("{s:s}", "type", CMN_MSG_READY);
    CHECK_EQ_INT(cmn_ctlmsg_send(sv[0], msg, send_fds, 3), 0);
    CHECK_EQ_INT(cmn_ctlmsg_send(sv[0], msg, NULL, 0), 0);
    json_decref(msg);

    int fds[CMN_CTLMSG_MAX_FDS], nfds = 0, err = 0;
    json_t *got = cmn_ctlmsg_recv(sv[1], fds, &nfds, &err);
    CHECK(got != NULL);
    CHECK_EQ_INT(nfds, 3);
    if (nfds == 3) {
        /* in order: fds[1] reaches the second pipe */
        CHECK_EQ_INT(write(fds[1], "2", 1), 1);
        char c = 0;
        CHECK_EQ_INT(read(p2[0], &c, 1), 1);
        CHECK_EQ_INT(c, '2');
        for (int i = 0; i < 3; i++)
            close(fds[i]);
    }
    json_decref(got);

    nfds = 99;
    got = cmn_ctlmsg_recv(sv[1], fds, &nfds, &err);
    CHECK(got != NULL);
    CHECK_EQ_INT(err, 0);
    CHECK_EQ_INT(nfds, 0);
    if (got)
        CHECK_EQ_STR(cmn_ctlmsg_type(got), "ready");
    json_decref(got);
    close(p1[0]);
    close(p1[1]);
    close(p2[0]);
    close(p2[1]);
    close_pair(sv);
}

TEST(recv_without_fd_array_closes_received_fds)
{
    int sv[2], pfd[2];
    if (make_pair(sv) < 0)
        return;
    CHECK_EQ_INT(pipe(pfd), 0);
    int before = count_open_fds();
    int send_fds[2] = {pfd[0], pfd[1]};
    json_t *msg = json_pack("{s:s}", "type", CMN_MSG_STOP);
    CHECK_EQ_INT(cmn_ctlmsg_send(sv[0], msg, send_fds, 2), 0);
    json_decref(msg);
    int err = 1;
    json_t *got = cmn_ctlmsg_recv(sv[1], NULL, NULL, &err);
    CHECK(got != NULL);
    CHECK_EQ_INT(err, 0);
    CHECK_EQ_INT(count_open_fds(), before);
    json_decref(got);
    close(pfd[0]);
    close(pfd[1]);
    close_pair(sv);
}

TEST(send_refuses_bad_fd_counts)
{
    int sv[2];
    if (make_pair(sv) < 0)
        return;
    json_t *msg = json_pack("{s:s}", "type", CMN_MSG_STOP);
    int pfd[2];
    CHECK_EQ_INT(pipe(pfd), 0);
    int fds[CMN_CTLMSG_MAX_FDS + 1];
    for (int i = 0; i <= CMN_CTLMSG_MAX_FDS; i++)
        fds[i] = pfd[i % 2];
    CHECK_EQ_INT(cmn_ctlmsg_send(sv[0], msg, fds, -1), -EINVAL);
    CHECK_EQ_INT(cmn_ctlmsg_send(sv[0], msg, fds, CMN_CTLMSG_MAX_FDS + 1), -EINVAL);
    /* the most allowed */
    CHECK_EQ_INT(cmn_ctlmsg_send(sv[0], msg, fds, CMN_CTLMSG_MAX_FDS), 0);
    json_decref(msg);
    int got_fds[CMN_CTLMSG_MAX_FDS], nfds = 0, err = 0;
    json_t *got = cmn_ctlmsg_recv(sv[1], got_fds, &nfds, &err);
    CHECK(got != NULL);
    CHECK_EQ_INT(nfds, CMN_CTLMSG_MAX_FDS);
    for (int i = 0; i < nfds; i++)
        close(got_fds[i]);
    json_decref(got);
    close(pfd[0]);
    close(pfd[1]);
    close_pair(sv);
}

TEST(eof_gives_null_and_zero)
{
    int sv[2];
    if (make_pair(sv) < 0)
        return;
    close(sv[0]);
    int fds[CMN_CTLMSG_MAX_FDS], nfds = 5, err = 77;
    json_t *got = cmn_ctlmsg_recv(sv[1], fds, &nfds, &err);
    CHECK(got == NULL);
    CHECK_EQ_INT(err, 0);
    CHECK_EQ_INT(nfds, 0);
    json_decref(got);
    close(sv[1]);
}

TEST(malformed_packets_give_ebadmsg)
{
    int sv[2];
    if (make_pair(sv) < 0)
        return;
    const char *bad[] = {
        "not json",
        "{\"type\":\"config\"",      /* cut short */
        "[\"type\",\"config\"]",     /* not an object */
        "\"config\"",                /* not an object */
        "{\"kind\":\"config\"}",     /* no type */
        "{\"type\":1}",              /* type not a string */
        "{\"type\":null}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ_INT(send(sv[0], bad[i], strlen(bad[i]), 0), (long long)strlen(bad[i]));
        int fds[CMN_CTLMSG_MAX_FDS], nfds = 0, err = 0;
        json_t *got = cmn_ctlmsg_recv(sv[1], fds, &nfds, &err);
        if (got != NULL || err != -EBADMSG)
            unit_fail(__FILE__, __LINE__, "packet %s: got %p err %d, want NULL -EBADMSG", bad[i],
                      (void *)got, err);
        json_decref(got);
    }
    /* the channel still works after bad packets */
    json_t *msg = json_pack("{s:s}", "type", CMN_MSG_FATAL);
    CHECK_EQ_INT(cmn_ctlmsg_send(sv[0], msg, NULL, 0), 0);
    json_decref(msg);
    int err = 0;
    json_t *got = cmn_ctlmsg_recv(sv[1], NULL, NULL, &err);
    CHECK(got != NULL);
    if (got)
        CHECK_EQ_STR(cmn_ctlmsg_type(got), "fatal");
    json_decref(got);
    close_pair(sv);
}

TEST(type_of_message_without_type_is_empty)
{
    json_t *m = json_pack("{s:i}", "x", 1);
    CHECK_EQ_STR(cmn_ctlmsg_type(m), "");
    json_object_set_new(m, "type", json_integer(3));
    CHECK_EQ_STR(cmn_ctlmsg_type(m), "");
    json_object_set_new(m, "type", json_string("stop"));
    CHECK_EQ_STR(cmn_ctlmsg_type(m), "stop");
    json_decref(m);
}

TEST(size_limit)
{
    int sv[2];
    if (make_pair(sv) < 0)
        return;
    /* 200 KB of socket buffer so a full-size message is not refused by
     * the kernel on small defaults */
    int sz = 256 * 1024;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);

    json_t *too_big = message_of_size(CMN_CTLMSG_MAX + 1);
    CHECK_EQ_INT(cmn_ctlmsg_send(sv[0], too_big, NULL, 0), -EMSGSIZE);
    json_decref(too_big);

    json_t *fits = message_of_size(CMN_CTLMSG_MAX);
    char *text = json_dumps(fits, JSON_COMPACT);
    CHECK_EQ_INT(strlen(text), CMN_CTLMSG_MAX);
    free(text);
    CHECK_EQ_INT(cmn_ctlmsg_send(sv[0], fits, NULL, 0), 0);
    json_decref(fits);
    int err = 1;
    json_t *got = cmn_ctlmsg_recv(sv[1], NULL, NULL, &err);
    CHECK(got != NULL);
    CHECK_EQ_INT(err, 0);
    if (got)
        CHECK_EQ_INT(json_string_length(json_object_get(got, "pad")),
                     CMN_CTLMSG_MAX - strlen("{\"type\":\"x\",\"pad\":\"\"}"));
    json_decref(got);
    close_pair(sv);
}

TEST(oversized_raw_packet_is_rejected_not_misread)
{
    int sv[2];
    if (make_pair(sv) < 0)
        return;
    int sz = 256 * 1024;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    json_t *big = message_of_size(CMN_CTLMSG_MAX + 100);
    char *text = json_dumps(big, JSON_COMPACT);
    json_decref(big);
    size_t len = strlen(text);
    CHECK_EQ_INT(send(sv[0], text, len, 0), (long long)len);
    free(text);
    int err = 0;
    json_t *got = cmn_ctlmsg_recv(sv[1], NULL, NULL, &err);
    CHECK(got == NULL);
    CHECK(err == -EBADMSG || err == -EMSGSIZE);
    json_decref(got);
    close_pair(sv);
}

TEST(nonblocking_empty_socket_gives_eagain)
{
    int sv[2];
    if (make_pair(sv) < 0)
        return;
    CHECK_EQ_INT(fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) | O_NONBLOCK), 0);
    int fds[CMN_CTLMSG_MAX_FDS], nfds = 3, err = 0;
    json_t *got = cmn_ctlmsg_recv(sv[1], fds, &nfds, &err);
    CHECK(got == NULL);
    CHECK_EQ_INT(err, -EAGAIN);
    CHECK_EQ_INT(nfds, 0);
    json_decref(got);
    /* and a message sent afterwards is read */
    json_t *msg = json_pack("{s:s}", "type", CMN_MSG_STOP);
    CHECK_EQ_INT(cmn_ctlmsg_send(sv[0], msg, NULL, 0), 0);
    json_decref(msg);
    got = cmn_ctlmsg_recv(sv[1], fds, &nfds, &err);
    CHECK(got != NULL);
    CHECK_EQ_INT(err, 0);
    json_decref(got);
    close_pair(sv);
}

TEST(send_to_closed_peer_fails_without_sigpipe)
{
    int sv[2];
    if (make_pair(sv) < 0)
        return;
    close(sv[1]);
    signal(SIGPIPE, SIG_DFL); /* a SIGPIPE would kill the test */
    json_t *msg = json_pack("{s:s}", "type", CMN_MSG_READY);
    int rc = cmn_ctlmsg_send(sv[0], msg, NULL, 0);
    signal(SIGPIPE, SIG_IGN);
    CHECK_EQ_INT(rc, -EPIPE);
    json_decref(msg);
    close(sv[0]);
}

int main(int argc, char **argv)
{
    unit_init(argc, argv);
    RUN(round_trip_with_pipe_fd);
    RUN(several_fds_and_no_fds);
    RUN(recv_without_fd_array_closes_received_fds);
    RUN(send_refuses_bad_fd_counts);
    RUN(eof_gives_null_and_zero);
    RUN(malformed_packets_give_ebadmsg);
    RUN(type_of_message_without_type_is_empty);
    RUN(size_limit);
    RUN(oversized_raw_packet_is_rejected_not_misread);
    RUN(nonblocking_empty_socket_gives_eagain);
    RUN(send_to_closed_peer_fails_without_sigpipe);
    return unit_finish();
}
