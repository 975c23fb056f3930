"""Open N idle keep-alive connections to 127.0.0.1:PORT and hold them.

Usage: hold.py PORT N [--deadline SECONDS] [--path /]

Each connection sends one GET, reads the whole response (so the server has
accepted it and it is now an idle keep-alive connection), then stays open.
Prints `ready OPENED FAILED` on stdout once all are open (or the deadline
passed), then follows commands read from stdin, one a line:

    check   print `alive K`: how many are still open (not closed by the server)
    close   close them all and exit (EOF on stdin does the same)

Everything is bounded: connect/read timeouts, an overall deadline, and exit
when stdin closes (the driver died).
"""
import argparse
import resource
import select
import socket
import sys
import time


def raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = need + 256
    if soft >= want:
        return
    if hard != resource.RLIM_INFINITY and hard < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
            return
        except (ValueError, OSError):
            want = hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def read_response(sock):
    """Read one response with a Content-Length; True if complete."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return False
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return False
        body += chunk
    return True


def open_all(port, n, path, deadline):
    request = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % (path, port)).encode()
    socks, failed = [], 0
    for _ in range(n):
        if time.monotonic() > deadline:
            failed += n - len(socks) - failed
            break
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(5)
        try:
            s.connect(("127.0.0.1", port))
            s.sendall(request)
            if not read_response(s):
                raise OSError("closed")
        except OSError:
            s.close()
            failed += 1
            continue
        socks.append(s)
    return socks, failed


def count_alive(socks):
    """A socket that is readable now has been closed (or sent junk): not idle."""
    poller = select.poll()
    for s in socks:
        poller.register(s, select.POLLIN | select.POLLHUP | select.POLLERR)
    return len(socks) - len(poller.poll(0))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("n", type=int)
    ap.add_argument("--deadline", type=float, default=120)
    ap.add_argument("--path", default="/")
    args = ap.parse_args()
    raise_nofile(args.n)
    socks, failed = open_all(args.port, args.n, args.path,
                             time.monotonic() + args.deadline)
    print("ready %d %d" % (len(socks), failed), flush=True)
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "check":
            print("alive %d" % count_alive(socks), flush=True)
        elif cmd == "close":
            break
    for s in socks:
        s.close()


if __name__ == "__main__":
    main()
