#!/usr/bin/python3
"""Raw HTTP client for the bats suite.

Usage: rawhttp.py PORT [options] REQUEST [REQUEST ...]

Each REQUEST is a string with backslash escapes (\\r, \\n, \\x00, ...) that
is sent as-is on ONE TCP connection to 127.0.0.1:PORT.  By default requests
are sent one at a time: send a request, read exactly one response (framed by
Content-Length / chunked / close, 1xx skipped, no body for HEAD/204/304),
then send the next one.  With --pipeline all requests are sent in one write
and then the responses are read.  After the last response the client keeps
reading for --idle seconds to see whether the server closes the connection
or sends stray bytes.

Output (stdout):
  default  the raw bytes received, unmodified
  --json   {"responses": [{"status_line", "status", "headers": [[k, v]...],
            "body", "raw_head", "chunks"}...], "closed": bool,
            "extra": str, "complete": bool}
           (bytes are decoded as latin-1; "chunks" is the list of chunk
           sizes for chunked bodies, else null)

Exit status: 0 = all responses read; 3 = connection closed (or timed out)
before every response was complete; 2 = usage or connection error.
"""
import codecs
import json
import socket
import sys
import time


class Closed(Exception):
    pass


class Conn:
    def __init__(self, sock, deadline):
        self.sock = sock
        self.buf = bytearray()
        self.raw = bytearray()
        self.closed = False
        self.deadline = deadline

    def _fill(self):
        if self.closed:
            raise Closed()
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise Closed("timeout")
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            raise Closed("timeout")
        except (ConnectionResetError, BrokenPipeError):
            data = b""
        if not data:
            self.closed = True
            raise Closed()
        self.buf += data
        self.raw += data

    def read_until(self, marker):
        start = 0
        while True:
            i = self.buf.find(marker, start)
            if i >= 0:
                break
            start = max(0, len(self.buf) - len(marker) + 1)
            self._fill()
        i += len(marker)
        out = bytes(self.buf[:i])
        del self.buf[:i]
        return out

    def read_n(self, n):
        while len(self.buf) < n:
            self._fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read_all(self):
        try:
            while True:
                self._fill()
        except Closed:
            pass
        out = bytes(self.buf)
        del self.buf[:]
        return out


def request_method(req):
    return req.split(b" ", 1)[0].upper()


def read_response(conn, method, resp):
    """Fill resp (a dict) while reading; raise Closed when cut short."""
    while True:
        head = conn.read_until(b"\r\n\r\n")
        lines = head[:-4].split(b"\r\n")
        resp["status_line"] = lines[0].decode("latin-1")
        resp["raw_head"] = head.decode("latin-1")
        parts = lines[0].split(b" ", 2)
        resp["status"] = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        headers = []
        for line in lines[1:]:
            k, _, v = line.partition(b":")
            headers.append([k.decode("latin-1"), v.strip().decode("latin-1")])
        resp["headers"] = headers
        if resp["status"] is not None and 100 <= resp["status"] < 200:
            continue
        break
    lower = {k.lower(): v for k, v in headers}
    resp["body"] = ""
    resp["chunks"] = None
    if method == b"HEAD" or resp["status"] in (204, 304):
        return
    if "chunked" in lower.get("transfer-encoding", "").lower():
        resp["chunks"] = []
        body = bytearray()
        while True:
            size_line = conn.read_until(b"\r\n")
            size = int(size_line.split(b";")[0].strip(), 16)
            resp["chunks"].append(size)
            if size == 0:
                # trailers until an empty line
                while conn.read_until(b"\r\n") != b"\r\n":
                    pass
                break
            body += conn.read_n(size)
            resp["body"] = body.decode("latin-1") if len(body) < 65536 else ""
            if conn.read_n(2) != b"\r\n":
                raise ValueError("bad chunk terminator")
        resp["body"] = body.decode("latin-1")
        return
    if "content-length" in lower:
        resp["body"] = conn.read_n(int(lower["content-length"])).decode("latin-1")
        return
    resp["body"] = conn.read_all().decode("latin-1")
    resp["close_delimited"] = True


def main(argv):
    args = argv[1:]
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    port = int(args.pop(0))
    as_json = False
    pipeline = False
    idle = 0.5
    timeout = 10.0
    half_close = False
    reqs = []
    while args:
        a = args.pop(0)
        if a == "--json":
            as_json = True
        elif a == "--pipeline":
            pipeline = True
        elif a == "--half-close":
            half_close = True
        elif a == "--idle":
            idle = float(args.pop(0))
        elif a == "--timeout":
            timeout = float(args.pop(0))
        else:
            reqs.append(codecs.escape_decode(a.encode("latin-1"))[0])
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    except OSError as e:
        print("rawhttp: connect: %s" % e, file=sys.stderr)
        return 2
    conn = Conn(sock, time.monotonic() + timeout)
    responses = []
    complete = True
    try:
        if pipeline:
            sock.sendall(b"".join(reqs))
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        for i, req in enumerate(reqs):
            if not pipeline:
                try:
                    sock.sendall(req)
                except OSError:
                    raise Closed()
                if half_close and i == len(reqs) - 1:
                    sock.shutdown(socket.SHUT_WR)
            resp = {}
            responses.append(resp)
            read_response(conn, request_method(req), resp)
    except Closed:
        complete = False
    extra = b""
    if complete and not conn.closed:
        conn.deadline = time.monotonic() + idle
        extra = conn.read_all()
    closed = conn.closed
    sock.close()
    if as_json:
        print(json.dumps({"responses": responses, "closed": closed,
                          "extra": extra.decode("latin-1"),
                          "complete": complete}))
    else:
        sys.stdout.buffer.write(conn.raw)
        sys.stdout.flush()
    return 0 if complete else 3


if __name__ == "__main__":
    sys.exit(main(sys.argv))
