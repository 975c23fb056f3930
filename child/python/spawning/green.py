"""Green mode (--threads=0): the child's server loop on the gevent hub.

Embedded in spawning_child at build time and run after gevent has
monkeypatched the interpreter and the app is imported. One greenlet accepts,
one greenlet per connection reads and parses requests (in C, through the
`_spawning_green` module) and runs the app; a blocked socket inside a
request yields to the hub, so thousands of long-poll requests wait at once
in one OS thread. A greenlet per connection listens on the control channel;
SIGTERM or the controller's "stop" drains: stop accepting, close idle
connections, let running requests finish.
"""
import os
import signal
import socket
import time
import traceback

import gevent
import greenlet
from gevent.pool import Group
from gevent.socket import wait_read

import _spawning_green as native


DRAIN_GRACE = 1.0  # seconds idle connections may still send a request (CHD_DRAIN_GRACE)


def serve(listen_fds, control_fd, header_timeout, keepalive, timeout):
    connections = Group()
    running = {}  # greenlet: Connection, while it runs a request (--timeout)
    idle = set()  # greenlets waiting for a next request, killed on drain
    draining = []

    def drain():
        if draining:
            return
        draining.append(True)
        native.set_draining()
        for acceptor in acceptors:
            acceptor.kill(block=False)
        take_queued()
        # Closing an idle keep-alive connection races with a request the
        # client may be sending; requests that arrive during the grace are
        # answered with "Connection: close", the still idle are closed after.
        gevent.spawn_later(DRAIN_GRACE, close_idle)

    def take_queued():
        """Takes over what is queued on the sockets: it would be reset when a
        socket closes for good (a stop); it is served with "Connection: close"."""
        for listen_fd in listen_fds:
            while True:
                try:
                    conn = native.accept(listen_fd)
                except OSError:
                    break
                if conn is None:
                    break
                connections.spawn(handle, conn)

    def close_idle():
        for g in list(idle):
            g.kill(block=False)

    def wait_for_request(conn, me):
        """Returns True when a request is ready, False to close."""
        deadline = None
        while True:
            state = conn.feed()
            if state != 0:
                return state > 0
            if conn.idle:
                idle.add(me)
                timeout = DRAIN_GRACE if draining else keepalive
            else:
                idle.discard(me)
                if deadline is None:
                    deadline = time.monotonic() + header_timeout
                timeout = deadline - time.monotonic()
            try:
                if timeout <= 0:
                    raise socket.timeout()
                wait_read(conn.fileno(), timeout=timeout)
            except socket.timeout:
                conn.timeout()  # 408 unless the connection was idle
                return False

    def handle(conn):
        me = gevent.getcurrent()
        try:
            while True:
                ready = wait_for_request(conn, me)
                idle.discard(me)
                if not ready or not serve_one(conn, me):
                    return
        finally:
            idle.discard(me)
            conn.close()

    def serve_one(conn, me):
        if timeout <= 0:
            return conn.serve()
        running[me] = conn
        try:
            return conn.serve()
        finally:
            del running[me]

    def watch_overdue():
        """--timeout for requests waiting on the hub (a patched sleep or
        socket); one that blocks the hub is the C watchdog's."""
        while True:
            gevent.sleep(min(0.25, timeout / 4))
            for g, conn in list(running.items()):
                if g.gr_frame is not None and conn.overdue():
                    conn.time_out("".join(
                        '  File "%s", line %s, in %s\n' % (f.filename, f.lineno, f.name)
                        for f in traceback.extract_stack(g.gr_frame)))

    def accept_loop(listen_fd):
        while True:
            wait_read(listen_fd)
            while True:
                try:
                    conn = native.accept(listen_fd)
                except OSError:  # out of descriptors: let connections finish
                    gevent.sleep(0.1)
                    break
                if conn is None:
                    break
                connections.spawn(handle, conn)

    def control_loop():
        while True:
            wait_read(control_fd)
            if native.control_message() in ("stop", "eof"):
                drain()
                return

    gevent.signal_handler(signal.SIGTERM, drain)
    gevent.signal_handler(signal.SIGINT, os._exit, 0)
    gevent.signal_handler(signal.SIGQUIT, os._exit, 0)
    acceptors = [gevent.spawn(accept_loop, fd) for fd in listen_fds]
    control = gevent.spawn(control_loop)
    if timeout > 0:
        native.watch(running)
        previous_trace = greenlet.settrace(native.switch_trace)
        watcher = gevent.spawn(watch_overdue)
    gevent.joinall(acceptors)
    take_queued()  # again: what arrived while the hub ran other greenlets
    native.close_listener()
    connections.join()
    control.kill()
    if timeout > 0:
        watcher.kill()
        greenlet.settrace(previous_trace)
        native.watch(None)
