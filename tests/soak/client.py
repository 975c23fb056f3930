"""The counting load client of the soak suite.

`Load(target, ...)` runs threads that send GET requests until stopped, half
of them on keep-alive connections and half with `Connection: close` (as
tests/bats/load.py does), and counts every request it sent and every answer
it got. A request is "sent" once its first byte is written; it is
"answered" when a complete response with the expected status came back;
every other outcome is a failure, kept with its time and kind:

    refused     the connection was refused (nothing listening)
    reset       the connection broke (reset, closed early, broken pipe)
    timeout     no answer within the timeout
    status      an answer with another status

Like every real HTTP client (urllib3's is_connection_dropped), a kept-alive
connection the server has already closed is noticed before it is reused
and replaced; that costs no request. `sent == answered + failed` always.

Everything is bounded: per-request timeouts, and `stop()` joins the
threads.
"""
import http.client
import select
import socket
import threading
import time


def classify(exc):
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timeout"
    return "reset"


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over a UNIX socket."""

    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


def connect(target, timeout):
    """target: a TCP port on 127.0.0.1 (int or str), or "unix:PATH"."""
    if isinstance(target, str) and target.startswith("unix:"):
        return UnixHTTPConnection(target[5:], timeout)
    return http.client.HTTPConnection("127.0.0.1", int(target), timeout=timeout)


def dropped(conn):
    """True when the server closed (or wrote to) an idle kept-alive connection."""
    sock = conn.sock
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


class Load:
    def __init__(self, target, threads=4, path="/", timeout=10.0, expect=200, keepalive=True,
                 close=True, on_answer=None):
        self.target = target
        self.path = path
        self.timeout = timeout
        self.expect = expect
        self.on_answer = on_answer  # called with the body of every answer (any thread)
        self.lock = threading.Lock()
        self.sent = self.answered = 0
        self.failures = []  # (monotonic time, kind, detail)
        self.answer_times = []  # monotonic second of every answer, coarse (for gaps)
        self.stopping = threading.Event()
        kinds = ([True] if keepalive else []) + ([False] if close else [])
        self.workers = [threading.Thread(target=self._run, args=(kinds[i % len(kinds)],),
                                         daemon=True) for i in range(threads * len(kinds))]

    @property
    def concurrency(self):
        return len(self.workers)

    def start(self):
        self.started = time.monotonic()
        for w in self.workers:
            w.start()
        return self

    def stop(self):
        self.stopping.set()
        for w in self.workers:
            w.join(self.timeout + 5)
        self.stopped = time.monotonic()
        return self

    def _fail(self, kind, detail):
        with self.lock:
            self.failures.append((time.monotonic(), kind, detail))

    def _answer(self, body):
        now = time.monotonic()
        with self.lock:
            self.answered += 1
            self.answer_times.append(now)
        if self.on_answer:
            self.on_answer(body)

    def _one(self, conn, keepalive):
        """Sends one request on conn; returns whether conn may be reused."""
        headers = {} if keepalive else {"Connection": "close"}
        with self.lock:
            self.sent += 1
        try:
            conn.request("GET", self.path, headers=headers)
            resp = conn.getresponse()
            body = resp.read()
        except Exception as e:  # noqa: BLE001 - every failure counts
            self._fail(classify(e), repr(e))
            return False
        if resp.status != self.expect:
            self._fail("status", "status %d" % resp.status)
        else:
            self._answer(body)
        return keepalive and (resp.getheader("Connection", "") or "").lower() != "close"

    def _run(self, keepalive):
        conn = None
        while not self.stopping.is_set():
            if conn is not None and dropped(conn):
                conn.close()
                conn = None
            if conn is None:
                conn = connect(self.target, self.timeout)
                try:
                    conn.connect()
                except OSError as e:
                    # Not a request yet, but a client would have sent one:
                    # count it, so a refused port shows up as failures.
                    with self.lock:
                        self.sent += 1
                    self._fail(classify(e), repr(e))
                    conn = None
                    time.sleep(0.01)
                    continue
            if not self._one(conn, keepalive):
                conn.close()
                conn = None
        if conn is not None:
            conn.close()

    # --- results -----------------------------------------------------------

    @property
    def failed(self):
        return len(self.failures)

    def failures_by_kind(self):
        out = {}
        for _, kind, _ in self.failures:
            out[kind] = out.get(kind, 0) + 1
        return out

    def longest_gap(self, start=None, end=None):
        """Longest time without any answer between start and end (monotonic)."""
        times = sorted(self.answer_times)
        start = self.started if start is None else start
        end = self.stopped if end is None else end
        last, gap = start, 0.0
        for t in times:
            if start <= t <= end:
                gap = max(gap, t - last)
                last = t
        return max(gap, end - last)

    def summary(self):
        return dict(sent=self.sent, answered=self.answered, failed=self.failed,
                    kinds=self.failures_by_kind(),
                    first_failures=[d for _, _, d in self.failures[:3]])
