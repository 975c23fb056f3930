"""A client still sending when the server answers it with an error.

  lingerclient.py answers PORT KIND TRIALS
      sends KIND's request (with MiBs of bytes after the point where the
      server can answer) all at once, as a naive client does, then reads
      until the end; TRIALS times. Prints "KIND STATUS whole=N reset=N
      other=N": whole when the answer came complete (its Content-Length)
      and then the end of the stream, reset when the connection was reset
      before that.
  lingerclient.py bound PORT
      sends a malformed head and reads its answer and the end of the
      stream, then keeps the connection open, sending a byte every 0.05 s
      until the server has closed it (the send fails); prints "let go
      after S" (seconds from the answer).
  lingerclient.py hold PORT SECONDS
      sends a malformed head, reads the answer, prints "answered", then
      holds the connection open (silent) for SECONDS.
"""
import socket
import sys
import time

BIG = 4 * 1024 * 1024
KINDS = {
    # a body over --limit-request-body, refused by its Content-Length
    "413": b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (BIG, b"x" * BIG),
    # a malformed head, then more bytes (a pipelined tail)
    "400": b"GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n" + b"y" * BIG,
    # a header section over the limits
    "431": b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * BIG + b"\r\n\r\n",
    # plain HTTP with a body, to a TLS address
    "not-tls": b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (BIG, b"x" * BIG),
}
MALFORMED = b"GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n"


def connect(port):
    return socket.create_connection(("127.0.0.1", port), timeout=20)


def whole_answer(data):
    """(status, True when data is one complete answer)."""
    head, sep, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ")
    status = parts[1].decode() if len(parts) > 1 else "-"
    length = [int(l.split(b":")[1]) for l in lines if l.lower().startswith(b"content-length:")]
    return status, bool(sep) and length == [len(body)]


def one_answer(port, request):
    """"whole STATUS", "reset", or "other ..."."""
    s = connect(port)
    try:
        s.sendall(request)
        data = read_answer(s)
    except (ConnectionResetError, BrokenPipeError):
        return "reset"
    finally:
        s.close()
    status, whole = whole_answer(data)
    return ("whole " + status) if whole else "other %r" % data[:80]


def answers(port, kind, trials):
    counts = {"whole": 0, "reset": 0, "other": 0}
    statuses = set()
    for _ in range(trials):
        result = one_answer(port, KINDS[kind])
        word = result.split(" ")[0]
        counts[word] += 1
        if word == "whole":
            statuses.add(result.split(" ")[1])
        elif word == "other":
            print(result, file=sys.stderr)
    print("%s %s whole=%d reset=%d other=%d" % (kind, ",".join(sorted(statuses)) or "-",
                                                counts["whole"], counts["reset"],
                                                counts["other"]))


def read_answer(s):
    """Everything until the end of the stream."""
    return b"".join(iter(lambda: s.recv(65536), b""))


def bound(port):
    s = connect(port)
    s.sendall(MALFORMED)
    read_answer(s)
    t0 = time.monotonic()
    try:
        while time.monotonic() - t0 < 15:
            s.send(b"z")
            time.sleep(0.05)
    except (ConnectionResetError, BrokenPipeError):
        print("let go after %.1f" % (time.monotonic() - t0))
        return
    print("never let go")


def hold(port, seconds):
    s = connect(port)
    s.sendall(MALFORMED)
    status, whole = whole_answer(read_answer(s))
    print("answered" if whole else "no answer", flush=True)
    time.sleep(seconds)


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode == "answers":
        answers(port, sys.argv[3], int(sys.argv[4]))
    elif mode == "bound":
        bound(port)
    else:
        hold(port, float(sys.argv[3]))


if __name__ == "__main__":
    main()
