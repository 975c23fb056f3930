/* ctl_miniserver: see ctl_miniserver.h. */
#include "ctl_miniserver.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct client {
    struct client *next;
    ctl_miniserver_t *server;
    int fd;
    ev_io io;
    ev_timer timer;
    cmn_buf_t in, out;
    bool close_after_reply;
} client_t;

struct ctl_miniserver {
    struct ev_loop *loop;
    int listen_fd;
    ev_io accept_io;
    const char *delimiter;
    ctl_mini_handler_t handle;
    void *arg;
    client_t *clients;
};

static void client_close(client_t *c)
{
    ctl_miniserver_t *m = c->server;
    for (client_t **p = &m->clients; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            break;
        }
    }
    ev_io_stop(m->loop, &c->io);
    ev_timer_stop(m->loop, &c->timer);
    close(c->fd);
    cmn_buf_free(&c->in);
    cmn_buf_free(&c->out);
    free(c);
}

static void client_watch(client_t *c, int events)
{
    ev_io_stop(c->server->loop, &c->io);
    ev_io_set(&c->io, c->fd, events);
    ev_io_start(c->server->loop, &c->io);
}

/* Runs the handler on every complete request in the input buffer. */
static void handle_requests(client_t *c)
{
    ctl_miniserver_t *m = c->server;
    size_t dlen = strlen(m->delimiter);
    while (!c->close_after_reply) {
        char *start = cmn_buf_head(&c->in);
        char *end = cmn_buf_unread(&c->in) ? memmem(start, cmn_buf_unread(&c->in), m->delimiter,
                                                    dlen)
                                           : NULL;
        if (!end)
            return;
        *end = '\0';
        size_t len = (size_t)(end - start);
        c->close_after_reply = !m->handle(m->arg, c->fd, start, len, &c->out);
        cmn_buf_consume(&c->in, len + dlen);
    }
}

static void flush(client_t *c)
{
    while (cmn_buf_unread(&c->out) > 0) {
        ssize_t n = send(c->fd, cmn_buf_head(&c->out), cmn_buf_unread(&c->out), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            client_watch(c, EV_WRITE);
            return;
        }
        if (n <= 0) {
            client_close(c);
            return;
        }
        cmn_buf_consume(&c->out, (size_t)n);
    }
    if (c->close_after_reply) {
        client_close(c);
        return;
    }
    client_watch(c, EV_READ);
}

static void on_client(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    client_t *c = w->data;
    if (revents & EV_WRITE) {
        flush(c);
        return;
    }
    if (cmn_buf_reserve(&c->in, 4096) < 0) {
        client_close(c);
        return;
    }
    ssize_t n = read(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0 || cmn_buf_unread(&c->in) + (size_t)n > CTL_MINI_MAX_REQUEST) {
        client_close(c);
        return;
    }
    c->in.len += (size_t)n;
    ev_timer_again(c->server->loop, &c->timer); /* the client is alive */
    handle_requests(c);
    if (cmn_buf_unread(&c->out) > 0 || c->close_after_reply)
        flush(c);
}

static void on_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    client_close(w->data);
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)revents;
    ctl_miniserver_t *m = w->data;
    for (int i = 0; i < 16; i++) {
        int fd = accept4(m->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        client_t *c = calloc(1, sizeof *c);
        if (!c) {
            close(fd);
            return;
        }
        c->server = m;
        c->fd = fd;
        c->next = m->clients;
        m->clients = c;
        ev_io_init(&c->io, on_client, fd, EV_READ);
        c->io.data = c;
        ev_io_start(loop, &c->io);
        ev_timer_init(&c->timer, on_timeout, CTL_MINI_TIMEOUT, CTL_MINI_TIMEOUT);
        c->timer.data = c;
        ev_timer_start(loop, &c->timer);
    }
}

ctl_miniserver_t *ctl_miniserver_start(struct ev_loop *loop, int listen_fd, const char *delimiter,
                                       ctl_mini_handler_t handle, void *arg)
{
    ctl_miniserver_t *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->loop = loop;
    m->listen_fd = listen_fd;
    m->delimiter = delimiter;
    m->handle = handle;
    m->arg = arg;
    ev_io_init(&m->accept_io, on_accept, listen_fd, EV_READ);
    m->accept_io.data = m;
    ev_io_start(loop, &m->accept_io);
    return m;
}

void ctl_miniserver_stop(ctl_miniserver_t *m)
{
    if (!m)
        return;
    while (m->clients)
        client_close(m->clients);
    ev_io_stop(m->loop, &m->accept_io);
    close(m->listen_fd);
    free(m);
}
