"""TLS client checks for tls.bats: tlsclient.py PORT CAFILE COMMAND [ARGS].

  keepalive N        N requests on one TLS connection; prints "ok N"
  resume N           one full handshake, then N reconnections offering its
                     session (TLS 1.2 and 1.3 tickets); prints how many
                     resumed: "resumed K of N"
  load SECONDS OUT   requests on fresh connections from 4 threads until
                     SECONDS pass; writes "ok FAILED SERIALS" to OUT, where
                     SERIALS are the certificate serial numbers seen
  ending PATH [LEN]  GET PATH on a fresh connection (with LEN: a POST saying
                     LEN body bytes, of which it sends all but the last
                     1000, so the app waits for them), read to its end;
                     prints the status line, then how the TLS stream ended:
                     "close_notify", or "cut" (no close_notify before the
                     connection closed)
"""
import http.client
import socket
import ssl
import sys
import threading
import time


def context(cafile, version=None):
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.check_hostname = False
    ctx.set_alpn_protocols(["http/1.1"])
    if version:
        ctx.minimum_version = ctx.maximum_version = version
    return ctx


def get(conn, path="/"):
    conn.request("GET", path)
    resp = conn.getresponse()
    body = resp.read()
    if resp.status != 200:
        raise RuntimeError("status %d" % resp.status)
    return body


def keepalive(port, cafile, n):
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context(cafile), timeout=10)
    for _ in range(int(n)):
        get(conn)
    sock = conn.sock
    print("ok", n, sock.version(), sock.selected_alpn_protocol())


def resume(port, cafile, n):
    out = []
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        ctx = context(cafile, version)
        session, resumed = None, 0
        for i in range(int(n) + 1):
            raw = socket.create_connection(("127.0.0.1", port), timeout=10)
            tls = ctx.wrap_socket(raw, server_hostname="a.test", session=session)
            tls.sendall(b"GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = tls.recv(65536)
                if not chunk:
                    break
                data += chunk
            if i > 0 and tls.session_reused:
                resumed += 1
            session = tls.session  # TLS 1.3: the ticket arrived with the data
            tls.close()
        out.append("%s resumed %d of %s" % (version.name, resumed, n))
    print("; ".join(out))


def load(port, cafile, seconds, out_path):
    stop = time.monotonic() + float(seconds)
    failed, done, serials, lock = [], [0], set(), threading.Lock()

    def worker():
        ctx = context(cafile)
        while time.monotonic() < stop:
            try:
                raw = socket.create_connection(("127.0.0.1", port), timeout=10)
                tls = ctx.wrap_socket(raw, server_hostname="a.test")
                serial = tls.getpeercert()["serialNumber"]
                conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx)
                conn.sock = tls
                get(conn, "/slow?s=0.05")
                conn.close()
                with lock:
                    done[0] += 1
                    serials.add(serial)
            except Exception as e:  # every failure counts and is named
                with lock:
                    failed.append(repr(e))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with open(out_path, "w") as f:
        f.write("ok %d %d %s\n" % (done[0], len(failed), ",".join(sorted(serials))))
        for e in failed[:5]:
            f.write(e + "\n")


def ending(port, cafile, path, length=None):
    ctx = context(cafile)
    ctx.options &= ~ssl.OP_IGNORE_UNEXPECTED_EOF  # Python sets it: a cut would look clean
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    tls = ctx.wrap_socket(raw, suppress_ragged_eofs=False)
    head = "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" % path
    if length:
        head = "POST" + head[3:] + "Content-Length: %s\r\n" % length
    tls.sendall(head.encode() + b"\r\n" + b"x" * max(int(length or 0) - 1000, 0))
    data, end = b"", "close_notify"
    try:
        while True:
            chunk = tls.recv(65536)
            if not chunk:
                break
            data += chunk
    except ssl.SSLError as e:  # OpenSSL 3 names it UNEXPECTED_EOF_WHILE_READING
        end = "cut" if "EOF" in str(e) else repr(e)
    print(data.split(b"\r\n", 1)[0].decode("latin-1"))
    print(end)


def main():
    port, cafile, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    commands = {"keepalive": keepalive, "resume": resume, "load": load, "ending": ending}
    commands[cmd](port, cafile, *sys.argv[4:])


if __name__ == "__main__":
    main()
