/* Unit tests for child/chd_green_conns.h: green mode's connections between
 * requests, on a plain libev loop (no Python: the workers are played by
 * the test, taking ready connections and finishing them). */
#include "chd_green_conns.h"
#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>

#define REQ "GET / HTTP/1.1\r\nHost: x\r\n\r\n"

static chd_config_t cfg;
static chd_stats_t stats;
static chd_conn_env_t env = {.stats = &stats};
static chd_green_conns_t gc;
static struct ev_loop *loop;

/* Opens a connection on a fresh socketpair, after the client sent `first`
 * (may be ""). Returns the client's end. */
static int open_with(const char *first)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
        abort();
    if (*first && write(sv[1], first, strlen(first)) != (ssize_t)strlen(first))
        abort();
    struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(4000)};
    inet_pton(AF_INET, "192.0.2.9", &peer.sin_addr);
    chd_green_conns_open(&gc, sv[0], (struct sockaddr *)&peer, NULL);
    return sv[1];
}

/* Turns the loop until a request is ready or `seconds` passed. */
static void run_for(double seconds)
{
    double end = chd_monotonic() + seconds;
    while (!chd_green_conns_have_ready(&gc) && chd_monotonic() < end)
        ev_run(loop, EVRUN_ONCE | EVRUN_NOWAIT), usleep(2000);
}

/* What the server sent to the client's end (nonblocking): "" if nothing,
 * "<closed>" appended at end of file. */
static const char *answer(int client)
{
    static char buf[1024];
    size_t len = 0;
    ssize_t n;
    while ((n = read(client, buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    if (n == 0)
        strncat(buf, "<closed>", sizeof buf - 1 - len);
    return buf;
}

TEST(a_whole_request_is_ready_at_once)
{
    int client = open_with(REQ);
    chd_conn_t *conn = chd_green_conns_next_ready(&gc);
    CHECK(conn != NULL);
    CHECK(chd_green_conns_next_ready(&gc) == NULL);
    if (!conn)
        return;
    CHECK_EQ_INT(atomic_load(&conn->state), CHD_CONN_IN_APP); /* begun */
    CHECK_EQ_STR(conn->request_line, "GET /");
    chd_green_conns_finish(conn);
    CHECK(chd_conn_is_idle(conn)); /* parked: no buffers */
    CHECK(conn->rbuf.data == NULL && conn->req.head.data == NULL);
    CHECK_EQ_INT(atomic_load(&stats.connections), 1);
    close(client);
    run_for(0.05); /* the client left: closed */
    CHECK_EQ_INT(atomic_load(&stats.connections), 0);
}

TEST(the_next_request_comes_through_the_watcher)
{
    int client = open_with("");
    run_for(0.02);
    CHECK(!chd_green_conns_have_ready(&gc));
    CHECK(write(client, REQ, strlen(REQ)) > 0);
    run_for(1);
    chd_conn_t *conn = chd_green_conns_next_ready(&gc);
    CHECK(conn != NULL);
    if (conn)
        chd_green_conns_finish(conn);
    close(client);
    run_for(0.05);
    CHECK_EQ_INT(atomic_load(&stats.connections), 0);
}

TEST(bytes_during_a_request_wait_for_its_end)
{
    int client = open_with(REQ);
    chd_conn_t *conn = chd_green_conns_next_ready(&gc);
    CHECK(conn != NULL);
    if (!conn)
        return;
    CHECK(write(client, REQ REQ, 2 * strlen(REQ)) > 0);
    run_for(0.05); /* the watcher disarms; nothing is parsed meanwhile */
    CHECK(!chd_green_conns_have_ready(&gc));
    CHECK_EQ_INT(atomic_load(&conn->state), CHD_CONN_IN_APP_DISARMED);
    chd_green_conns_finish(conn);
    run_for(1);
    CHECK(chd_green_conns_next_ready(&gc) == conn); /* the first pipelined one */
    chd_green_conns_finish(conn);
    CHECK(chd_green_conns_next_ready(&gc) == conn); /* the second, from rbuf */
    chd_green_conns_finish(conn);
    close(client);
    run_for(0.05);
    CHECK_EQ_INT(atomic_load(&stats.connections), 0);
}

TEST(a_half_head_gets_408_after_the_header_timeout)
{
    cfg.header_timeout = 0.1;
    int client = open_with("GET / HTTP/1.1\r\nHo");
    double t0 = chd_monotonic();
    while (atomic_load(&stats.connections) > 0 && chd_monotonic() - t0 < 2)
        run_for(0.01);
    CHECK(chd_monotonic() - t0 >= 0.09);
    CHECK_EQ_INT(atomic_load(&stats.connections), 0);
    const char *got = answer(client);
    CHECK(strncmp(got, "HTTP/1.1 408 ", 13) == 0);
    close(client);
    cfg.header_timeout = 30;
}

TEST(an_idle_connection_closes_quietly_after_the_keepalive)
{
    cfg.keepalive = 0.15;
    cfg.header_timeout = 0.05; /* the first timer; it re-arms for the rest */
    int client = open_with(REQ);
    chd_conn_t *conn = chd_green_conns_next_ready(&gc);
    if (conn)
        chd_green_conns_finish(conn);
    double t0 = chd_monotonic();
    while (atomic_load(&stats.connections) > 0 && chd_monotonic() - t0 < 2)
        run_for(0.01);
    CHECK(chd_monotonic() - t0 >= 0.14);
    CHECK_EQ_INT(atomic_load(&stats.connections), 0);
    CHECK_EQ_STR(answer(client), "<closed>");
    close(client);
    cfg.keepalive = 75;
    cfg.header_timeout = 30;
}

TEST(a_malformed_request_is_answered_and_closed)
{
    int client = open_with("GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n");
    CHECK(!chd_green_conns_have_ready(&gc));
    CHECK_EQ_INT(atomic_load(&stats.connections), 0);
    CHECK(strncmp(answer(client), "HTTP/1.1 400 ", 13) == 0);
    close(client);
}

TEST(draining_closes_idle_connections_after_the_grace)
{
    int client = open_with(REQ);
    chd_conn_t *conn = chd_green_conns_next_ready(&gc);
    if (conn)
        chd_green_conns_finish(conn);
    atomic_store(&env.draining, true);
    chd_green_conns_drain(&gc);
    double t0 = chd_monotonic();
    while (atomic_load(&stats.connections) > 0 && chd_monotonic() - t0 < 3)
        run_for(0.01);
    CHECK_EQ_INT(atomic_load(&stats.connections), 0);
    CHECK(chd_monotonic() - t0 < 2);
    close(client);
    atomic_store(&env.draining, false);
}

int main(int argc, char **argv)
{
    unit_init(argc, argv);
    cfg.limits = chd_default_limits;
    cfg.header_timeout = 30;
    cfg.keepalive = 75;
    cfg.body_timeout = 30;
    env.cfg = &cfg;
    loop = ev_loop_new(EVFLAG_AUTO);
    chd_green_conns_init(&gc, loop, &env);
    RUN(a_whole_request_is_ready_at_once);
    RUN(the_next_request_comes_through_the_watcher);
    RUN(bytes_during_a_request_wait_for_its_end);
    RUN(a_half_head_gets_408_after_the_header_timeout);
    RUN(an_idle_connection_closes_quietly_after_the_keepalive);
    RUN(a_malformed_request_is_answered_and_closed);
    RUN(draining_closes_idle_connections_after_the_grace);
    ev_loop_destroy(loop);
    return unit_finish();
}
