/* Unit tests for child/chd_linger.h: a socket closed lingering on a plain
 * libev loop, the client on the other end of a socketpair: its write side
 * shut at once, what the client sends dropped, the socket closed when the
 * client closes, past CHD_LINGER_MAX_BYTES, or after CHD_LINGER_SECONDS;
 * env->on_close told each time. */
#include "chd_linger.h"
#include "unit.h"

#include <errno.h>
#include <sys/socket.h>

static chd_stats_t stats;
static chd_conn_env_t env = {.stats = &stats};
static struct ev_loop *loop;
static int closes; /* env->on_close calls */

static void on_close(void *owner)
{
    (void)owner;
    closes++;
}

/* Lingers the server's end of a fresh socketpair; returns the client's. */
static int linger_pair(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
        abort();
    closes = 0;
    chd_linger_close(&env, sv[0]);
    return sv[1];
}

/* Turns the loop until nothing lingers or `seconds` passed. */
static void run_for(double seconds)
{
    double end = chd_monotonic() + seconds;
    while (chd_linger_any(&env) && chd_monotonic() < end)
        ev_run(loop, EVRUN_ONCE | EVRUN_NOWAIT), usleep(2000);
}

/* Sends what the socket takes now; returns the count or -errno. */
static ssize_t send_now(int fd, const char *buf, size_t len)
{
    ssize_t n = send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    return n < 0 ? -errno : n;
}

TEST(the_client_sees_the_end_at_once_and_its_bytes_are_dropped)
{
    uint64_t before = atomic_load(&stats.bytes_received);
    int client = linger_pair();
    char c;
    CHECK_EQ_INT(recv(client, &c, 1, MSG_DONTWAIT), 0); /* the write side is shut */
    CHECK(chd_linger_any(&env));
    CHECK_EQ_INT(send_now(client, "more of the request", 19), 19);
    run_for(0.05);
    CHECK(chd_linger_any(&env)); /* the client has not closed */
    CHECK_EQ_INT(atomic_load(&stats.bytes_received) - before, 19);
    CHECK_EQ_INT(closes, 0);
    close(client);
    run_for(1);
    CHECK(!chd_linger_any(&env));
    CHECK_EQ_INT(closes, 1);
}

TEST(a_client_that_keeps_sending_is_cut_off_past_the_byte_bound)
{
    int client = linger_pair();
    static char chunk[64 * 1024];
    size_t sent = 0;
    ssize_t n = 0;
    double end = chd_monotonic() + 10;
    while (sent <= 2 * (size_t)CHD_LINGER_MAX_BYTES && chd_monotonic() < end) {
        n = send_now(client, chunk, sizeof chunk);
        if (n > 0)
            sent += (size_t)n;
        else if (n != -EAGAIN)
            break;
        ev_run(loop, EVRUN_ONCE | EVRUN_NOWAIT);
    }
    CHECK_EQ_INT(n, -EPIPE); /* the socket was closed while the client still sent */
    CHECK(sent >= CHD_LINGER_MAX_BYTES && sent <= 2 * (size_t)CHD_LINGER_MAX_BYTES);
    CHECK(!chd_linger_any(&env));
    CHECK_EQ_INT(closes, 1);
    close(client);
}

TEST(a_silent_client_is_let_go_after_the_time_bound)
{
    double t0 = chd_monotonic();
    int client = linger_pair();
    run_for(CHD_LINGER_SECONDS + 3);
    double took = chd_monotonic() - t0;
    CHECK(!chd_linger_any(&env));
    CHECK(took >= CHD_LINGER_SECONDS - 0.1 && took < CHD_LINGER_SECONDS + 3);
    CHECK_EQ_INT(send_now(client, "x", 1), -EPIPE);
    CHECK_EQ_INT(closes, 1);
    close(client);
}

TEST(several_linger_at_once_and_end_in_any_order)
{
    int a = linger_pair(), b = linger_pair(), c = linger_pair();
    closes = 0;
    close(b);
    run_for(0.2);
    CHECK(chd_linger_any(&env));
    CHECK_EQ_INT(closes, 1);
    close(a);
    close(c);
    run_for(1);
    CHECK(!chd_linger_any(&env));
    CHECK_EQ_INT(closes, 3);
}

int main(int argc, char **argv)
{
    unit_init(argc, argv);
    loop = ev_loop_new(EVFLAG_AUTO);
    env.loop = loop;
    env.on_close = on_close;
    RUN(the_client_sees_the_end_at_once_and_its_bytes_are_dropped);
    RUN(a_client_that_keeps_sending_is_cut_off_past_the_byte_bound);
    RUN(a_silent_client_is_let_go_after_the_time_bound);
    RUN(several_linger_at_once_and_end_in_any_order);
    ev_loop_destroy(loop);
    return unit_finish();
}
