/* Unit tests for the PROXY stage of child/chd_conn.h (--proxy-protocol):
 * what a connection's first bytes may be, for trusted and untrusted peers,
 * whole and a byte at a time, and what becomes of the peer and its trust. */
#include "chd_conn.h"
#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>

#define REQ "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
#define V2_SIG "\r\n\r\n\0\r\nQUIT\n"

static chd_config_t cfg;
static chd_stats_t stats;
static chd_conn_env_t env = {.stats = &stats}; /* what a connection sees of its server */
static int other_end = -1; /* the "client" side of the last conn's socketpair */

/* A connection from addr:port (IPv4) on a fresh socketpair. */
static chd_conn_t *conn_from(const char *addr, int port, bool proxy_protocol)
{
    cfg.proxy_protocol = proxy_protocol;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
        abort();
    if (other_end >= 0)
        close(other_end);
    other_end = sv[1];
    struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, addr, &peer.sin_addr);
    return chd_conn_new(&env, sv[0], (struct sockaddr *)&peer);
}

/* Feeds len bytes a byte at a time, as reads that each bring one: the
 * first through chd_conn_parse_bytes (the I/O thread's scratch path), the
 * rest into rbuf then chd_conn_parse. Returns the last result. */
static chd_parse_result_t feed_bytewise(chd_conn_t *conn, const char *data, size_t len,
                                        size_t *more_count)
{
    chd_parse_result_t rc = chd_conn_parse_bytes(conn, data, 1);
    *more_count = rc == CHD_PARSE_MORE;
    for (size_t i = 1; i < len && rc == CHD_PARSE_MORE; i++) {
        cmn_buf_append(&conn->rbuf, data + i, 1);
        rc = chd_conn_parse(conn);
        *more_count += rc == CHD_PARSE_MORE;
    }
    return rc;
}

TEST(off_by_default)
{
    chd_conn_t *conn = conn_from("127.0.0.1", 5000, false);
    CHECK_EQ_INT(conn->proxy_stage, CHD_PROXY_STAGE_NONE);
    static const char hdr[] = "PROXY TCP4 192.0.2.1 198.51.100.2 1 2\r\n" REQ;
    CHECK(chd_conn_parse_bytes(conn, hdr, sizeof hdr - 1) != CHD_PARSE_DROP);
    CHECK_EQ_STR(conn->peer_addr, "127.0.0.1");
    chd_conn_destroy(conn);
}

TEST(trusted_peer_header_then_request)
{
    chd_conn_t *conn = conn_from("127.0.0.1", 5000, true);
    CHECK_EQ_INT(conn->proxy_stage, CHD_PROXY_STAGE_REQUIRED);
    CHECK(!chd_conn_is_idle(conn)); /* the header is owed: --header-timeout runs */
    static const char in[] = "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n" REQ;
    CHECK_EQ_INT(chd_conn_parse_bytes(conn, in, sizeof in - 1), CHD_PARSE_READY);
    CHECK_EQ_STR(conn->peer_addr, "192.0.2.1");
    CHECK_EQ_INT(conn->peer_port, 56324);
    CHECK(!conn->via_trusted_proxy); /* the client is no proxy */
    CHECK_EQ_INT(conn->proxy_stage, CHD_PROXY_STAGE_NONE);
    CHECK_EQ_STR(chd_request_method(&conn->req), "GET");
    chd_conn_destroy(conn);
}

TEST(trusted_peer_bytewise_v1_and_v2)
{
    static const char v1[] = "PROXY TCP6 2001:DB8::5 ::1 7 8\r\n" REQ;
    chd_conn_t *conn = conn_from("127.0.0.1", 5000, true);
    size_t more;
    CHECK_EQ_INT(feed_bytewise(conn, v1, sizeof v1 - 1, &more), CHD_PARSE_READY);
    CHECK_EQ_INT(more, sizeof v1 - 2);
    CHECK_EQ_STR(conn->peer_addr, "2001:db8::5");
    CHECK_EQ_INT(conn->peer_port, 7);
    chd_conn_destroy(conn);

    static const char v2[] = V2_SIG "\x21\x11\x00\x0c"
                                    "\xc0\x00\x02\x09" "\x7f\x00\x00\x01" "\x13\x88\x00\x50" REQ;
    conn = conn_from("127.0.0.1", 5000, true);
    CHECK_EQ_INT(feed_bytewise(conn, v2, sizeof v2 - 1, &more), CHD_PARSE_READY);
    CHECK_EQ_STR(conn->peer_addr, "192.0.2.9");
    CHECK_EQ_INT(conn->peer_port, 5000);
    chd_conn_destroy(conn);
}

TEST(pipelined_bytes_after_the_header_stay)
{
    chd_conn_t *conn = conn_from("127.0.0.1", 5000, true);
    static const char in[] = "PROXY UNKNOWN\r\n" REQ REQ;
    CHECK_EQ_INT(chd_conn_parse_bytes(conn, in, sizeof in - 1), CHD_PARSE_READY);
    CHECK_EQ_INT(cmn_buf_unread(&conn->rbuf), sizeof REQ - 1);
    CHECK_EQ_STR(conn->peer_addr, "127.0.0.1"); /* UNKNOWN: the real peer */
    CHECK(!conn->via_trusted_proxy);             /* but no longer a proxy's word */
    chd_conn_destroy(conn);

    /* The header alone: nothing of HTTP yet, and idle from then on. */
    conn = conn_from("127.0.0.1", 5000, true);
    static const char hdr[] = "PROXY TCP4 192.0.2.1 198.51.100.2 1 2\r\n";
    CHECK_EQ_INT(chd_conn_parse_bytes(conn, hdr, sizeof hdr - 1), CHD_PARSE_MORE);
    CHECK(chd_conn_is_idle(conn));
    CHECK_EQ_INT(chd_conn_parse_bytes(conn, REQ, sizeof REQ - 1), CHD_PARSE_READY);
    CHECK_EQ_STR(conn->peer_addr, "192.0.2.1");
    chd_conn_destroy(conn);
}

TEST(trust_after_the_header)
{
    /* The header names a trusted proxy: its forwarding fields count. */
    chd_conn_t *conn = conn_from("127.0.0.1", 5000, true);
    static const char chained[] = "PROXY TCP4 127.0.0.1 127.0.0.1 9 80\r\n";
    CHECK_EQ_INT(chd_conn_parse_bytes(conn, chained, sizeof chained - 1), CHD_PARSE_MORE);
    CHECK(conn->via_trusted_proxy);
    CHECK_EQ_INT(conn->peer_port, 9);
    chd_conn_destroy(conn);
    /* LOCAL: the proxy's own connection, trusted as before. */
    conn = conn_from("127.0.0.1", 5000, true);
    static const char local[] = V2_SIG "\x20\x00\x00\x00";
    CHECK_EQ_INT(chd_conn_parse_bytes(conn, local, sizeof local - 1), CHD_PARSE_MORE);
    CHECK(conn->via_trusted_proxy);
    CHECK_EQ_STR(conn->peer_addr, "127.0.0.1");
    CHECK_EQ_INT(conn->peer_port, 5000);
    chd_conn_destroy(conn);
}

TEST(trusted_peer_bad_or_missing_header_drops)
{
    static const char *const inputs[] = {
        REQ,
        "PROXY TCP4 192.0.2.1 198.51.100.2 1 080\r\n" REQ,
        V2_SIG "\x22\x11\x00\x0c",
    };
    static const size_t lens[] = {sizeof REQ - 1,
                                  sizeof "PROXY TCP4 192.0.2.1 198.51.100.2 1 080\r\n" REQ - 1,
                                  sizeof V2_SIG "\x22\x11\x00\x0c" - 1};
    for (size_t i = 0; i < 3; i++) {
        chd_conn_t *conn = conn_from("127.0.0.1", 5000, true);
        CHECK_EQ_INT(chd_conn_parse_bytes(conn, inputs[i], lens[i]), CHD_PARSE_DROP);
        CHECK_EQ_INT(conn->req.phase, CHD_REQ_IDLE); /* no HTTP byte was parsed */
        chd_conn_destroy(conn);
    }
}

TEST(untrusted_peer)
{
    /* Plain HTTP is served, with the peer's own address. */
    chd_conn_t *conn = conn_from("10.0.0.1", 6000, true);
    CHECK_EQ_INT(conn->proxy_stage, CHD_PROXY_STAGE_REFUSED);
    CHECK_EQ_INT(chd_conn_parse_bytes(conn, REQ, sizeof REQ - 1), CHD_PARSE_READY);
    CHECK_EQ_STR(conn->peer_addr, "10.0.0.1");
    chd_conn_destroy(conn);
    /* Decided on the first byte that is no signature's. */
    conn = conn_from("10.0.0.1", 6000, true);
    CHECK_EQ_INT(chd_conn_parse_bytes(conn, "PO", 2), CHD_PARSE_MORE);
    CHECK_EQ_INT(conn->proxy_stage, CHD_PROXY_STAGE_NONE);
    chd_conn_destroy(conn);
    /* A PROXY header, whole or arriving in pieces, is refused. */
    conn = conn_from("10.0.0.1", 6000, true);
    static const char v1[] = "PROXY TCP4 192.0.2.1 198.51.100.2 1 2\r\n" REQ;
    CHECK_EQ_INT(chd_conn_parse_bytes(conn, v1, sizeof v1 - 1), CHD_PARSE_DROP);
    CHECK_EQ_INT(conn->req.phase, CHD_REQ_IDLE);
    chd_conn_destroy(conn);
    conn = conn_from("10.0.0.1", 6000, true);
    size_t more;
    static const char v2[] = V2_SIG "\x21\x11\x00\x0c";
    CHECK_EQ_INT(feed_bytewise(conn, v2, sizeof v2 - 1, &more), CHD_PARSE_DROP);
    CHECK_EQ_INT(more, 11);
    chd_conn_destroy(conn);
}

/* True when the other end of the socketpair has nothing to read. */
static bool nothing_sent(void)
{
    char c;
    return recv(other_end, &c, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN;
}

TEST(timeouts)
{
    /* Half a PROXY header: closed without a word. */
    chd_conn_t *conn = conn_from("127.0.0.1", 5000, true);
    CHECK_EQ_INT(chd_conn_parse_bytes(conn, "PROXY TCP4 1", 12), CHD_PARSE_MORE);
    chd_conn_timed_out(conn);
    CHECK(nothing_sent());
    chd_conn_destroy(conn);
    /* Half an HTTP head after the header: 408 as without the option. */
    conn = conn_from("127.0.0.1", 5000, true);
    static const char half[] = "PROXY UNKNOWN\r\nGET / HT";
    CHECK_EQ_INT(chd_conn_parse_bytes(conn, half, sizeof half - 1), CHD_PARSE_MORE);
    chd_conn_timed_out(conn);
    char buf[64] = "";
    CHECK(recv(other_end, buf, sizeof buf - 1, MSG_DONTWAIT) > 12);
    CHECK(strncmp(buf, "HTTP/1.1 408", 12) == 0);
    chd_conn_destroy(conn);
}

int main(int argc, char **argv)
{
    unit_init(argc, argv);
    cfg.limits = chd_default_limits;
    cmn_iplist_parse("127.0.0.1,::1", &cfg.trusted_proxies, NULL, 0);
    env.cfg = &cfg;
    RUN(off_by_default);
    RUN(trusted_peer_header_then_request);
    RUN(trusted_peer_bytewise_v1_and_v2);
    RUN(pipelined_bytes_after_the_header_stay);
    RUN(trust_after_the_header);
    RUN(trusted_peer_bad_or_missing_header_drops);
    RUN(untrusted_peer);
    RUN(timeouts);
    if (other_end >= 0)
        close(other_end);
    return unit_finish();
}
