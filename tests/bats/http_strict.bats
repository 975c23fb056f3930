#!/usr/bin/env bats
# HTTP/1.1 framing, limits, timeouts and trusted-proxy headers (issue 3).
# Raw sockets throughout: a client library would hide or fix the bytes.

load helpers

setup_file() {
  start_server --processes 1 --threads 2 --limit-request-line 200 \
    --limit-request-fields 20 --limit-request-field-size 300 --limit-request-body 100K \
    --header-timeout 1 --keepalive 2 --body-timeout 1 tests.apps.http_app:app
}

teardown_file() {
  stop_server
  kill_all_tagged
}

# send BYTES-AS-PYTHON-LITERAL [SECONDS]: send, read until close or SECONDS
# of silence; prints the raw answer (latin-1) then a last line
# "closed=True|False elapsed=S".
send() {
  "$PY" - "$SERVER_PORT" "$1" "${2:-3}" <<'PYEOF'
import socket, sys, time
port, data, wait = int(sys.argv[1]), eval(sys.argv[2]), float(sys.argv[3])
s = socket.create_connection(("127.0.0.1", port))
t0 = time.time()
s.sendall(data)
s.settimeout(wait)
out, closed = b"", False
try:
    while True:
        d = s.recv(65536)
        if not d:
            closed = True
            break
        out += d
except socket.timeout:
    pass
except ConnectionResetError:
    closed = True
sys.stdout.write(out.decode("latin-1"))
print("\nclosed=%s elapsed=%.1f" % (closed, time.time() - t0))
PYEOF
}

@test "every malformed request of the table gets its status and a closed connection" {
  run "$PY" "$SPAWNING_ROOT/tests/http/check_cases.py" "$SERVER_PORT"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *" passed, 0 failed" ]]
}

@test "the child survives all of them and keeps serving" {
  run get /hello
  [ "$output" = "ok" ]
  [ "$(child_pids | wc -l)" -eq 1 ]
  ! grep -q "AddressSanitizer\|runtime error" "$SERVER_LOG"
}

@test "--limit-request-line: 414 past it, served below it" {
  long=$(printf 'a%.0s' $(seq 1 200))
  run send "b'GET /$long HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'"
  [[ "$output" == "HTTP/1.1 414 "* ]]
  [[ "$output" == *"closed=True"* ]]
  run send "b'GET /short HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n'"
  [[ "$output" == "HTTP/1.1 200 "* ]]
}

@test "--limit-request-fields: 431 for one field too many" {
  fields=$(for i in $(seq 1 20); do printf 'X-%d: v\\r\\n' "$i"; done)
  run send "b'GET / HTTP/1.1\\r\\nHost: x\\r\\n$fields\\r\\n'"
  [[ "$output" == "HTTP/1.1 431 "* ]]
  fields=$(for i in $(seq 1 19); do printf 'X-%d: v\\r\\n' "$i"; done)
  run send "b'GET / HTTP/1.1\\r\\nHost: x\\r\\n$fields\\r\\n'" 1
  [[ "$output" == "HTTP/1.1 200 "* ]]
}

@test "--limit-request-field-size: 431 for a field over it" {
  value=$(printf 'v%.0s' $(seq 1 300))
  run send "b'GET / HTTP/1.1\\r\\nHost: x\\r\\nX-Big: $value\\r\\n\\r\\n'"
  [[ "$output" == "HTTP/1.1 431 "* ]]
  [[ "$output" == *"closed=True"* ]]
}

@test "--limit-request-body: 413 by Content-Length, and mid-way through a chunked body" {
  run send "b'POST /echo-body HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 200000\\r\\n\\r\\n'"
  [[ "$output" == "HTTP/1.1 413 "* ]]
  [[ "$output" == *"closed=True"* ]]
  run send "b'POST /echo-body HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n' + (b'8000\\r\\n' + b'z' * 0x8000 + b'\\r\\n') * 5 + b'0\\r\\n\\r\\n'"
  [[ "$output" == "HTTP/1.1 413 "* ]]
  run send "b'POST /echo-body HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 5\\r\\nConnection: close\\r\\n\\r\\nhello'"
  [[ "$output" == "HTTP/1.1 200 "* ]]
  [[ "$output" == *"5 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"* ]]
}

@test "chunked bodies with extensions and trailers are de-chunked" {
  run send "b'POST /echo-body HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\nConnection: close\\r\\n\\r\\n3;name=val\\r\\nhel\\r\\n2\\r\\nlo\\r\\n0\\r\\nX-Trailer: yes\\r\\n\\r\\n'"
  [[ "$output" == "HTTP/1.1 200 "* ]]
  [[ "$output" == *"5 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"* ]]
}

@test "a large body streams through wsgi.input intact" {
  run "$PY" - "$SERVER_PORT" <<'PYEOF'
import hashlib, http.client, os, sys
body = os.urandom(90 * 1024)
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
c.request("POST", "/echo-body", body=body)
print(c.getresponse().read().decode().strip() == "%d %s" % (len(body), hashlib.sha256(body).hexdigest()))
PYEOF
  [ "$output" = True ]
}

@test "Expect: 100-continue gets 100 only when the app reads, never when it does not" {
  run "$PY" - "$SERVER_PORT" <<'PYEOF'
import socket, sys
port = int(sys.argv[1])
def head(path):
    s = socket.create_connection(("127.0.0.1", port), timeout=3)
    s.sendall(b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
    return s
s = head(b"/echo-body")
first = s.recv(100)
s.sendall(b"hello")
rest = b""
while b"\r\n\r\n" not in rest or not rest.endswith(b"\n"):
    rest += s.recv(1000)
print(first.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), b"200 OK" in rest)
s = head(b"/ignore-body")
answer = s.recv(1000)
print(answer.startswith(b"HTTP/1.1 200"), b"100 Continue" not in answer)
PYEOF
  [ "${lines[0]}" = "True True" ]
  [ "${lines[1]}" = "True True" ]
}

@test "--header-timeout: a half-sent head gets 408 and the connection closes" {
  run send "b'GET / HTTP/1.1\\r\\nHost: x\\r\\n'" 4
  [[ "$output" == "HTTP/1.1 408 "* ]]
  [[ "$output" == *"closed=True elapsed=1"* ]]
}

@test "--keepalive: an idle connection is closed quietly after it" {
  run send "b'GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'" 5
  [[ "$output" == "HTTP/1.1 200 "* ]]
  [[ "$output" == *"closed=True elapsed=2"* ]]
  [ "$(grep -o 'HTTP/1.1' <<<"$output" | wc -l)" -eq 1 ]
}

@test "--body-timeout: a stalled body gets 408, the child keeps serving" {
  run send "b'POST /echo-body HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 10\\r\\n\\r\\nhel'" 4
  [[ "$output" == "HTTP/1.1 408 "* ]]
  [[ "$output" == *"closed=True"* ]]
  run get /hello
  [ "$output" = ok ]
}

@test "header names with underscores are dropped; repeated headers are joined" {
  run send "b'GET /environ HTTP/1.1\\r\\nHost: x\\r\\nX_Forwarded_For: 6.6.6.6\\r\\nX-Dup: a\\r\\nX-Dup: b\\r\\nConnection: close\\r\\n\\r\\n'"
  body=$(sed -n '/^{/p' <<<"$output")
  [ "$(pyq '"HTTP_X_FORWARDED_FOR" in d' <<<"$body")" = false ]
  [ "$(pyq 'd["HTTP_X_DUP"]' <<<"$body")" = "a, b" ]
}

@test "absolute-form targets are accepted" {
  run send "b'GET http://example.com/p/q?x=1 HTTP/1.1\\r\\nHost: example.com\\r\\nConnection: close\\r\\n\\r\\n'"
  [[ "$output" == "HTTP/1.1 200 "* ]]
  run send "b'GET http://example.com/environ?x=1 HTTP/1.1\\r\\nHost: example.com\\r\\nConnection: close\\r\\n\\r\\n'"
  body=$(sed -n '/^{/p' <<<"$output")
  [ "$(pyq 'd["PATH_INFO"] + "|" + d["QUERY_STRING"]' <<<"$body")" = "/environ|x=1" ]
}

@test "trusted proxy (127.0.0.1 by default): X-Forwarded-For/Proto and Forwarded are used" {
  run send "b'GET /environ HTTP/1.1\\r\\nHost: x\\r\\nX-Forwarded-For: 1.2.3.4, 5.6.7.8\\r\\nX-Forwarded-Proto: https\\r\\nConnection: close\\r\\n\\r\\n'"
  body=$(sed -n '/^{/p' <<<"$output")
  [ "$(pyq 'd["REMOTE_ADDR"] + " " + d["wsgi.url_scheme"]' <<<"$body")" = "5.6.7.8 https" ]
  run send "b'GET /environ HTTP/1.1\\r\\nHost: x\\r\\nForwarded: for=\"[2001:db8::7]:9\";proto=https\\r\\nConnection: close\\r\\n\\r\\n'"
  body=$(sed -n '/^{/p' <<<"$output")
  [ "$(pyq 'd["REMOTE_ADDR"] + " " + d["wsgi.url_scheme"]' <<<"$body")" = "2001:db8::7 https" ]
}

@test "untrusted peer: forwarding headers change nothing" {
  local port
  port=$(free_port)
  launch_server --port "$port" --processes 1 --forwarded-allow-ips 10.9.8.7 tests.apps.http_app:app
  local pid=$SERVER_PID
  SERVER_PORT=$port wait_http "$port"
  SERVER_PORT=$port run send "b'GET /environ HTTP/1.1\\r\\nHost: x\\r\\nX-Forwarded-For: 1.2.3.4\\r\\nX-Forwarded-Proto: https\\r\\nConnection: close\\r\\n\\r\\n'"
  stop_server
  body=$(sed -n '/^{/p' <<<"$output")
  [ "$(pyq 'd["REMOTE_ADDR"] + " " + d["wsgi.url_scheme"]' <<<"$body")" = "127.0.0.1 http" ]
}

@test "--no-keepalive: every response closes its connection" {
  local port
  port=$(free_port)
  launch_server --port "$port" --processes 1 --no-keepalive tests.apps.http_app:app
  SERVER_PORT=$port wait_http "$port"
  SERVER_PORT=$port run send "b'GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\nGET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'"
  stop_server
  [[ "$output" == *"Connection: close"* ]]
  [[ "$output" == *"closed=True"* ]]
  [ "$(grep -o 'HTTP/1.1 200' <<<"$output" | wc -l)" -eq 1 ]
}

@test "a large response is written with back-pressure, not buffered" {
  local port
  port=$(free_port)   # default timeouts: the client below stalls for a second
  launch_server --port "$port" --processes 1 tests.apps.http_app:app
  SERVER_PORT=$port wait_http "$port"
  run "$PY" - "$port" "$SERVER_PID" <<'PYEOF'
import socket, subprocess, sys, time
port, ctl = int(sys.argv[1]), sys.argv[2]
child = subprocess.check_output(["pgrep", "-P", ctl]).split()[0].decode()
def rss_kb():
    for line in open("/proc/%s/status" % child):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
before = rss_kb()
s = socket.create_connection(("127.0.0.1", port))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
s.sendall(b"GET /big?mb=400 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
first = s.recv(65536)
time.sleep(1.0)            # the client stalls: the server must wait, not buffer
during = rss_kb()
got = len(first) - (first.index(b"\r\n\r\n") + 4)
s.settimeout(10)
while True:
    d = s.recv(1 << 20)
    if not d:
        break
    got += len(d)
print(during - before < 50 * 1024, got == 400 * 1024 * 1024)
PYEOF
  stop_server
  echo "$output"
  [ "$output" = "True True" ]
}

@test "--log-level debug: each closed connection says why" {
  start_server --processes 1 --threads 2 --log-level debug --header-timeout 1 --keepalive 1 \
    --body-timeout 1 tests.apps.http_app:app
  assert_close_reasons
}
