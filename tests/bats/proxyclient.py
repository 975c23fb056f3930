#!/usr/bin/python3
"""PROXY protocol client for tests/bats/proxyproto.bats.

Usage: proxyclient.py PORT|unix:PATH HEADER [options]

Opens ONE connection, sends HEADER, then --requests N keep-alive GETs of
--path (the last with "Connection: close" unless --keep-open), and prints
one JSON object:
  {"responses": [{"status": 200, "json": {...environ...} or null}...],
   "closed": bool (closed before every response came), "received": N bytes
   when closed early, "local_port": the client's own port}

HEADER:
  v1:TEXT             "PROXY " + TEXT + "\\r\\n"
  v2:FAM:SRC:SPORT    a v2 PROXY header, FAM tcp4 or tcp6, destination ::1 / 127.0.0.1:80
  v2tlv:FAM:SRC:SPORT the same with two TLVs after the addresses
  v2local             a v2 LOCAL header
  raw:PYTHON-BYTES    these bytes (a Python bytes literal)
  none                nothing
Options:
  --bytewise          send the header (and the first request) a byte at a time, 5 ms apart
  --pipeline          send the header and every request in one write
  --requests N        (default 1)
  --path P            (default /)
  --header K:V        an extra request header (repeatable)
  --source ADDR       bind the client to ADDR first (127.0.0.2, say)
  --wait S            seconds to wait for each response (default 5)
  --stall             after the header, send nothing and wait for the close
  --tls               after the header (sent in cleartext), a TLS handshake
                      (no certificate check), then the requests through it;
                      a handshake the server cuts short counts as "closed"
"""
import json
import socket
import ssl
import struct
import sys
import time

SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def v2_header(fam, src, sport, command=0x21, tlvs=b""):
    if fam == "tcp4":
        block = socket.inet_pton(socket.AF_INET, src) + socket.inet_pton(socket.AF_INET, "127.0.0.1")
        famb = 0x11
    else:
        block = socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, "::1")
        famb = 0x21
    block += struct.pack("!HH", int(sport), 80) + tlvs
    return SIG + bytes([command, famb]) + struct.pack("!H", len(block)) + block


def make_header(spec):
    kind, _, rest = spec.partition(":")
    if kind == "v1":
        return b"PROXY " + rest.encode() + b"\r\n"
    if kind in ("v2", "v2tlv"):
        fam, addr_port = rest.split(":", 1)
        src, sport = addr_port.rsplit(":", 1)
        tlvs = b"\x01\x00\x02h2" + b"\x04\x00\x03\x00\x00\x00" if kind == "v2tlv" else b""
        return v2_header(fam, src, sport, tlvs=tlvs)
    if kind == "v2local":
        return SIG + bytes([0x20, 0x00]) + struct.pack("!H", 0)
    if kind == "raw":
        return eval(rest)  # a bytes literal from the test itself
    if kind == "none":
        return b""
    raise SystemExit("bad HEADER: " + spec)


def read_response(sock, buf):
    """Reads one Content-Length-framed response; returns (response, rest) or None on close."""
    while b"\r\n\r\n" not in buf:
        d = sock.recv(65536)
        if not d:
            return None, buf
        buf += d
    head, _, buf = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v)
    while len(buf) < length:
        d = sock.recv(65536)
        if not d:
            return None, buf
        buf += d
    body, buf = buf[:length], buf[length:]
    try:
        doc = json.loads(body)
    except ValueError:
        doc = None
    return {"status": status, "json": doc}, buf


def tls_after(sock, header, bytewise):
    """Sends header in cleartext (a byte at a time when bytewise), then
    shakes hands over the same socket; returns the TLS socket."""
    for piece in [bytes([b]) for b in header] if bytewise else [header]:
        sock.sendall(piece)
        if bytewise:
            time.sleep(0.005)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx.wrap_socket(sock, server_hostname="a.test")


def main(argv):
    target, header = argv[1], make_header(argv[2])
    args = argv[3:]
    opts = {"requests": 1, "path": "/", "wait": 5.0, "headers": []}
    while args:
        a = args.pop(0)
        if a in ("--bytewise", "--pipeline", "--stall", "--keep-open", "--tls"):
            opts[a[2:]] = True
        elif a == "--header":
            opts["headers"].append(args.pop(0))
        else:
            opts[a[2:]] = args.pop(0)
    n = int(opts["requests"])
    if target.startswith("unix:"):
        sock = socket.socket(socket.AF_UNIX)
        sock.connect(target[5:])
    else:
        sock = socket.socket(socket.AF_INET)
        if "source" in opts:
            sock.bind((opts["source"], 0))
        sock.connect(("127.0.0.1", int(target)))
    local_port = sock.getsockname()[1] if sock.family == socket.AF_INET else 0
    sock.settimeout(float(opts["wait"]))
    extra = "".join("%s\r\n" % h for h in opts["headers"])
    reqs = []
    for i in range(n):
        close = "Connection: close\r\n" if i == n - 1 and "keep-open" not in opts else ""
        reqs.append(("GET %s HTTP/1.1\r\nHost: x\r\n%s%s\r\n" % (opts["path"], extra, close)).encode())
    out = {"responses": [], "closed": False, "received": 0, "local_port": local_port}
    try:
        if "tls" in opts:
            sock = tls_after(sock, header, "bytewise" in opts)
            header = b""
        if "bytewise" in opts:
            for b in header + reqs[0]:
                sock.send(bytes([b]))
                time.sleep(0.005)
            reqs[0] = b""
        elif "pipeline" in opts:
            sock.sendall(header + b"".join(reqs))
            reqs = [b""] * n
        else:
            sock.sendall(header)
        if "stall" in opts:
            n = 0
            data = sock.recv(65536)  # the close, or a timeout
            out["closed"] = not data
            out["received"] = len(data)
        buf = b""
        for i in range(n):
            if reqs[i]:
                sock.sendall(reqs[i])
            resp, buf = read_response(sock, buf)
            if resp is None:
                out["closed"] = True
                out["received"] = len(buf)
                break
            out["responses"].append(resp)
    except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
        out["closed"] = True
    except socket.timeout:
        out["timeout"] = True
    sock.close()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
