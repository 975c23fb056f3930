"""Green mode (--threads=0): the child's server loop on the gevent hub.

Embedded in spawning_child at build time and run after gevent has
monkeypatched the interpreter and the app is imported. One greenlet per
listening socket accepts; from then on a connection lives in C
(`_spawning_green`, chd_green_conns.c): watched on the hub's loop without
a greenlet while it waits for a request, read and parsed in C, and handed
to a worker greenlet from a small pool only while a request runs. A
blocked socket inside a request yields to the hub, so thousands of
long-poll requests wait at once in one OS thread. A greenlet listens on
the control channel; SIGTERM or the controller's "stop" drains: stop
accepting, close idle connections, let running requests finish.
"""
import os
import signal
import traceback

import gevent
import greenlet
from gevent.event import Event
from gevent.socket import wait_read

import _spawning_green as native


def serve(listen_fds, control_fd, timeout):
    draining = []
    running = {}  # worker greenlet: its request (filled in C), with --timeout

    def drain():
        if draining:
            return
        draining.append(True)
        # Requests that arrive during the grace are answered with
        # "Connection: close"; connections still idle after it are closed.
        native.set_draining()
        for acceptor in acceptors:
            acceptor.kill(block=False)
        take_queued()

    def take_queued():
        """Takes over what is queued on the sockets: it would be reset when a
        socket closes for good (a stop); it is served with "Connection: close"."""
        for listen_fd in listen_fds:
            while True:
                try:
                    if native.accept(listen_fd) is None:
                        break
                except OSError:
                    break

    def watch_overdue():
        """--timeout for requests waiting on the hub (a patched sleep or
        socket); one that blocks the hub is the C watchdog's."""
        while True:
            gevent.sleep(min(0.25, timeout / 4))
            for g in list(running):
                if g.gr_frame is not None and native.overdue(g):
                    native.time_out(g, "".join(
                        '  File "%s", line %s, in %s\n' % (f.filename, f.lineno, f.name)
                        for f in traceback.extract_stack(g.gr_frame)))

    def accept_loop(listen_fd):
        while True:
            wait_read(listen_fd)
            while True:
                try:
                    if native.accept(listen_fd) is None:
                        break
                except OSError:  # out of descriptors: let connections finish
                    gevent.sleep(0.1)
                    break

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
    # switch_trace sees every greenlet switch: with --timeout, to name the
    # greenlet that runs; in the ASan build, to clear the stack's shadow
    # that greenlet's stack copying leaves stale (chd_green_asan.h).
    tracing = timeout > 0 or native.ASAN_BUILD
    if tracing:
        previous_trace = greenlet.settrace(native.switch_trace)
    if timeout > 0:
        native.watch(running)
        watcher = gevent.spawn(watch_overdue)
    gevent.joinall(acceptors)
    take_queued()  # again: what arrived while the hub ran other greenlets
    native.close_listener()
    all_closed = Event()
    native.when_all_closed(all_closed.set)
    all_closed.wait()
    control.kill()
    if timeout > 0:
        watcher.kill()
    if tracing:
        greenlet.settrace(previous_trace)
    native.watch(None)
