#!/usr/bin/env bats
# PROXY protocol v1 and v2 (--proxy-protocol, issue 10): the header's client
# becomes REMOTE_ADDR/REMOTE_PORT; a bad, missing or untrusted header closes
# the connection with no answer and the app never sees what followed it;
# on TLS addresses the header comes in cleartext before the handshake;
# HAProxy's send-proxy and send-proxy-v2 in front, for real (to TLS too).

bats_require_minimum_version 1.5.0
load helpers

PPC="$BATS_TEST_DIRNAME/proxyclient.py"
HAPROXY=/usr/sbin/haproxy

setup_file() {
  export ACCESS_LOG="$BATS_FILE_TMPDIR/access.log"
  start_pp_server --processes 1 --threads 2 --header-timeout 2 -l "$ACCESS_LOG" \
    tests.apps.echo_environ:app
  export FILE_SERVER_PID="$SERVER_PID"
}

teardown() {
  [[ -n "${HAPROXY_PID:-}" ]] && kill "$HAPROXY_PID" 2>/dev/null && wait "$HAPROXY_PID" 2>/dev/null
  stop_own_server
}

teardown_file() {
  stop_file_server
}

# start_pp_server ARGS...: spawning --proxy-protocol ARGS on a free port,
# waiting until a request with a PROXY header (curl's) is answered.
start_pp_server() {
  SERVER_PORT="$(free_port)"
  export SERVER_PORT
  launch_server --host 127.0.0.1 --port "$SERVER_PORT" --proxy-protocol "$@" || return 1
  local i
  for ((i = 0; i < 100; i++)); do
    proc_alive "$SERVER_PID" || { show_log; return 1; }
    curl -s --noproxy '*' --haproxy-protocol --max-time 1 -o /dev/null \
      "http://127.0.0.1:$SERVER_PORT/" && return 0
    sleep 0.1
  done
  show_log
  return 1
}

# pp HEADER [OPTIONS]: proxyclient.py against the current server.
pp() {
  "$PY" "$PPC" "$SERVER_PORT" "$@"
}

# remote: "REMOTE_ADDR REMOTE_PORT" of every response in $output.
remote() {
  pyq '" ".join("%s %s" % (r["json"]["REMOTE_ADDR"], r["json"]["REMOTE_PORT"]) for r in d["responses"])' <<<"$output"
}

# expect_dropped: $output shows a connection closed with no byte answered.
expect_dropped() {
  [ "$(pyq 'd["closed"] and not d["responses"] and d["received"] == 0' <<<"$output")" = true ] ||
    fail "not dropped silently: $output"
}

# wait_access PATTERN: wait (<= 5 s) for a line matching PATTERN in the
# access log (it is flushed a moment after each request).
wait_access() {
  local i
  for ((i = 0; i < 50; i++)); do
    grep -qE -- "$1" "$ACCESS_LOG" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "no access-log line matching $1:" >&2
  cat "$ACCESS_LOG" >&2
  return 1
}

@test "v1 TCP4 and TCP6 headers set REMOTE_ADDR and REMOTE_PORT" {
  run pp "v1:TCP4 192.0.2.1 198.51.100.2 56324 443"
  [ "$status" -eq 0 ]
  [ "$(remote)" = "192.0.2.1 56324" ] || fail "$output"
  run pp "v1:TCP6 2001:DB8::17 ::1 0 8080"
  [ "$(remote)" = "2001:db8::17 0" ] || fail "$output"
  # curl's own v1 header: its real address and port.
  run "${CURL[@]}" --haproxy-protocol "$(url /)"
  [ "$(pyq 'd["REMOTE_ADDR"]' <<<"$output")" = 127.0.0.1 ]
}

@test "v2 TCP4 and TCP6 headers (with TLVs) set REMOTE_ADDR and REMOTE_PORT" {
  run pp "v2:tcp4:203.0.113.9:40000"
  [ "$(remote)" = "203.0.113.9 40000" ] || fail "$output"
  run pp "v2tlv:tcp6:2001:db8::9:65535"
  [ "$(remote)" = "2001:db8::9 65535" ] || fail "$output"
  run pp "v2tlv:tcp4:198.51.100.7:1"
  [ "$(remote)" = "198.51.100.7 1" ] || fail "$output"
}

@test "v2 LOCAL and v1 UNKNOWN keep the real peer" {
  run pp v2local
  local port
  port="$(pyq 'd["local_port"]' <<<"$output")"
  [ "$(remote)" = "127.0.0.1 $port" ] || fail "$output"
  run pp "v1:UNKNOWN"
  port="$(pyq 'd["local_port"]' <<<"$output")"
  [ "$(remote)" = "127.0.0.1 $port" ] || fail "$output"
}

@test "a header arriving a byte at a time, v1 and v2" {
  run pp "v1:TCP4 192.0.2.44 198.51.100.2 1234 80" --bytewise
  [ "$(remote)" = "192.0.2.44 1234" ] || fail "$output"
  run pp "v2tlv:tcp6:2001:db8::44:4321" --bytewise
  [ "$(remote)" = "2001:db8::44 4321" ] || fail "$output"
}

@test "keep-alive and pipelining: every request after one header keeps its address" {
  run pp "v1:TCP4 192.0.2.5 198.51.100.2 5005 80" --requests 3
  [ "$(remote)" = "192.0.2.5 5005 192.0.2.5 5005 192.0.2.5 5005" ] || fail "$output"
  # Header and three requests in one write: the bytes after the header stay.
  run pp "v2:tcp4:192.0.2.6:6006" --requests 3 --pipeline
  [ "$(remote)" = "192.0.2.6 6006 192.0.2.6 6006 192.0.2.6 6006" ] || fail "$output"
}

@test "the access log's host is the header's client" {
  run pp "v1:TCP4 192.0.2.77 198.51.100.2 7777 80" --path /logged-v1
  run pp "v2:tcp4:192.0.2.78:7778" --path /logged-v2
  wait_access "/logged-v2 "
  wait_access "/logged-v1 "
  grep -E "^192\.0\.2\.77 .*/logged-v1 " "$ACCESS_LOG" || fail "$(cat "$ACCESS_LOG")"
  grep -E "^192\.0\.2\.78 .*/logged-v2 " "$ACCESS_LOG" || fail "$(cat "$ACCESS_LOG")"
}

@test "malformed headers close the connection unanswered; the app sees nothing; serving goes on" {
  local before req='GET /must-not-run HTTP/1.1\r\nHost: x\r\n\r\n' sig='\r\n\r\n\x00\r\nQUIT\n' bad
  before="$(child_pids)"
  # A slow, valid connection runs while the bad ones come and go.
  "$PY" "$PPC" "$SERVER_PORT" "v1:TCP4 192.0.2.90 198.51.100.2 9090 80" --bytewise \
    >"$BATS_TEST_TMPDIR/slow.json" &
  local slow=$!
  for bad in \
      "b'PROXY TCP4 192.0.2.01 198.51.100.2 1 2\r\n$req'" \
      "b'PROXY TCP4 192.0.2.1 198.51.100.2 1 +2\r\n$req'" \
      "b'PROXY TCP4 192.0.2.1 198.51.100.2 1 080\r\n$req'" \
      "b'PROXY TCP4  192.0.2.1 198.51.100.2 1 2\r\n$req'" \
      "b'PROXY TCP6 192.0.2.1 198.51.100.2 1 2\r\n$req'" \
      "b'PROXY TCP4 192.0.2.1 198.51.100.2 1 2\n$req'" \
      "b'PROXY UNKNOWN' + b'x' * 120 + b'\r\n$req'" \
      "b'$sig\x31\x11\x00\x0c' + bytes(12) + b'$req'" \
      "b'$sig\x22\x11\x00\x0c' + bytes(12) + b'$req'" \
      "b'$sig\x21\x12\x00\x0c' + bytes(12) + b'$req'" \
      "b'$sig\x21\x11\x00\x0b' + bytes(11) + b'$req'" \
      "b'$sig\x21\x11\x00\x11' + bytes(12) + b'\x01\x00\x09ab$req'" \
      "b'$sig\x21\x11\xff\xff' + bytes(12) + b'$req'" \
      "b'$req'"; do
    run pp "raw:$bad"
    expect_dropped
  done
  wait "$slow"
  output="$(cat "$BATS_TEST_TMPDIR/slow.json")"
  [ "$(remote)" = "192.0.2.90 9090" ] || fail "the slow connection: $output"
  run pp "v1:TCP4 192.0.2.91 198.51.100.2 1 2" --path /after-the-bad-ones
  [ "$(remote)" = "192.0.2.91 1" ] || fail "$output"
  [ "$(child_pids)" = "$before" ] || fail "the child changed"
  wait_access "/after-the-bad-ones "
  ! grep -q must-not-run "$ACCESS_LOG" || fail "the app saw a request: $(cat "$ACCESS_LOG")"
  grep -q "expected a PROXY header: v1: a port is not 0-65535" "$SERVER_LOG"
  grep -q "expected a PROXY header: v2: command is not LOCAL or PROXY" "$SERVER_LOG"
  grep -q "expected a PROXY header: it starts with neither" "$SERVER_LOG"
  ! grep -q " 400 " "$ACCESS_LOG"
}

@test "the header must be complete within --header-timeout; no 408 is sent" {
  local t0=$SECONDS
  run pp "raw:b'PROXY TCP4 192.0.2.1 198.'" --stall --wait 6
  expect_dropped
  [ $((SECONDS - t0)) -ge 1 ] && [ $((SECONDS - t0)) -le 4 ] || fail "closed after $((SECONDS - t0)) s"
  grep -q "no complete PROXY header within --header-timeout" "$SERVER_LOG"
}

@test "after the header, X-Forwarded-For is believed only from a trusted address" {
  # The header's client is no proxy: its own X-Forwarded-For is ignored.
  run pp "v1:TCP4 192.0.2.1 198.51.100.2 1000 80" --header "X-Forwarded-For: 6.6.6.6" \
    --header "X-Forwarded-Proto: https"
  [ "$(remote)" = "192.0.2.1 1000" ] || fail "$output"
  [ "$(pyq 'd["responses"][0]["json"]["wsgi.url_scheme"]' <<<"$output")" = http ]
  run pp "v2:tcp4:192.0.2.1:1000" --header "Forwarded: for=6.6.6.6"
  [ "$(remote)" = "192.0.2.1 1000" ] || fail "$output"
  # A client the proxy cannot name (UNKNOWN): nothing it says is believed.
  run pp "v1:UNKNOWN" --header "X-Forwarded-For: 6.6.6.6"
  [ "$(pyq 'd["responses"][0]["json"]["REMOTE_ADDR"]' <<<"$output")" = 127.0.0.1 ] || fail "$output"
  # The header names an address that is itself in --forwarded-allow-ips
  # (a proxy behind a proxy): its forwarding fields are believed.
  run pp "v1:TCP4 127.0.0.1 127.0.0.1 1000 80" --header "X-Forwarded-For: 6.6.6.6"
  [ "$(pyq 'd["responses"][0]["json"]["REMOTE_ADDR"]' <<<"$output")" = 6.6.6.6 ] || fail "$output"
  # LOCAL: the proxy's own connection, still the trusted proxy.
  run pp v2local --header "X-Forwarded-For: 6.6.6.6"
  [ "$(pyq 'd["responses"][0]["json"]["REMOTE_ADDR"]' <<<"$output")" = 6.6.6.6 ] || fail "$output"
}

@test "a peer not in --forwarded-allow-ips: PROXY headers refused, plain HTTP served" {
  SERVER_PORT="$(free_port)"
  launch_server --host 127.0.0.1 --port "$SERVER_PORT" --proxy-protocol \
    --forwarded-allow-ips 10.9.9.9 --processes 1 tests.apps.echo_environ:app
  wait_http "$SERVER_PORT"
  run pp "v1:TCP4 192.0.2.1 198.51.100.2 1 2"
  expect_dropped
  run pp "v2:tcp4:192.0.2.1:1"
  expect_dropped
  run pp "v1:TCP4 192.0.2.1 198.51.100.2 1 2" --bytewise
  expect_dropped
  run pp none --requests 2
  local port
  port="$(pyq 'd["local_port"]' <<<"$output")"
  [ "$(remote)" = "127.0.0.1 $port 127.0.0.1 $port" ] || fail "$output"
  grep -q "PROXY header from a peer not in --forwarded-allow-ips: closed" "$SERVER_LOG"
}

@test "UNIX-socket peers are trusted: the header is required there" {
  local sock="$BATS_TEST_TMPDIR/pp.sock"
  launch_server -b "unix:$sock" --proxy-protocol --processes 1 tests.apps.echo_environ:app
  wait_ready 1
  local i
  for ((i = 0; i < 50; i++)); do [[ -S "$sock" ]] && break; sleep 0.1; done
  run "$PY" "$PPC" "unix:$sock" "v1:TCP4 192.0.2.3 198.51.100.2 3333 80" --requests 2
  [ "$(remote)" = "192.0.2.3 3333 192.0.2.3 3333" ] || fail "$output"
  run "$PY" "$PPC" "unix:$sock" "v2:tcp6:2001:db8::3:3"
  [ "$(remote)" = "2001:db8::3 3" ] || fail "$output"
  run "$PY" "$PPC" "unix:$sock" none
  expect_dropped
}

@test "green mode (--threads 0): headers whole, split and malformed" {
  "$PY" -c 'import gevent' 2>/dev/null || skip "gevent is not installed (Debian: python3-gevent)"
  start_pp_server --processes 1 --threads 0 --header-timeout 2 tests.apps.echo_environ:app
  run pp "v1:TCP4 192.0.2.11 198.51.100.2 1111 80" --requests 3
  [ "$(remote)" = "192.0.2.11 1111 192.0.2.11 1111 192.0.2.11 1111" ] || fail "$output"
  run pp "v2tlv:tcp6:2001:db8::11:2222" --bytewise
  [ "$(remote)" = "2001:db8::11 2222" ] || fail "$output"
  run pp "v2:tcp4:192.0.2.12:1212" --requests 2 --pipeline
  [ "$(remote)" = "192.0.2.12 1212 192.0.2.12 1212" ] || fail "$output"
  run pp v2local
  [ "$(pyq 'd["responses"][0]["json"]["REMOTE_ADDR"]' <<<"$output")" = 127.0.0.1 ] || fail "$output"
  run pp "raw:b'PROXY TCP4 192.0.2.1 198.51.100.2 1 65536\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n'"
  expect_dropped
  run pp "raw:b'GET / HTTP/1.1\r\nHost: x\r\n\r\n'"
  expect_dropped
  local t0=$SECONDS
  run pp "raw:b'PROXY '" --stall --wait 6
  expect_dropped
  [ $((SECONDS - t0)) -le 4 ] || fail "closed after $((SECONDS - t0)) s"
  run pp "v1:TCP4 192.0.2.13 198.51.100.2 1313 80"
  [ "$(remote)" = "192.0.2.13 1313" ] || fail "$output"
}

# start_pp_tls ARGS...: spawning --proxy-protocol on an https:// address (a
# self-signed certificate) on a free port, waiting until curl is answered
# (its PROXY header then TLS, or TLS alone when the header is refused).
start_pp_tls() {
  local d="$BATS_FILE_TMPDIR"
  [[ -f "$d/pp.pem" ]] ||
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
      -subj /CN=a.test -keyout "$d/pp.key" -out "$d/pp.pem" >/dev/null 2>&1 || return 1
  SERVER_PORT="$(free_port)"
  export SERVER_PORT
  launch_server -b "https://127.0.0.1:$SERVER_PORT" --proxy-protocol \
    --certfile "$d/pp.pem" --keyfile "$d/pp.key" "$@" || return 1
  local i
  for ((i = 0; i < 100; i++)); do
    proc_alive "$SERVER_PID" || { show_log; return 1; }
    curl -sk --noproxy '*' --haproxy-protocol --max-time 1 -o /dev/null \
      "https://127.0.0.1:$SERVER_PORT/" && return 0
    curl -sk --noproxy '*' --max-time 1 -o /dev/null "https://127.0.0.1:$SERVER_PORT/" &&
      return 0
    sleep 0.1
  done
  show_log
  return 1
}

@test "TLS address: a v1 or v2 header in cleartext, then the handshake; the header's client is REMOTE_ADDR" {
  start_pp_tls --processes 1 --threads 2 tests.apps.echo_environ:app
  run pp "v1:TCP4 192.0.2.21 198.51.100.2 2121 443" --tls
  [ "$(remote)" = "192.0.2.21 2121" ] || fail "$output"
  [ "$(pyq 'd["responses"][0]["json"]["wsgi.url_scheme"]' <<<"$output")" = https ]
  run pp "v2:tcp4:192.0.2.22:2222" --tls --requests 3
  [ "$(remote)" = "192.0.2.22 2222 192.0.2.22 2222 192.0.2.22 2222" ] || fail "$output"
  run pp "v2tlv:tcp6:2001:db8::23:2323" --tls --bytewise
  [ "$(remote)" = "2001:db8::23 2323" ] || fail "$output"
  run pp v2local --tls
  port="$(pyq 'd["local_port"]' <<<"$output")"
  [ "$(remote)" = "127.0.0.1 $port" ] || fail "$output"
  # curl's own v1 header before its TLS: its real address.
  run "${CURL[@]}" -k --haproxy-protocol "https://127.0.0.1:$SERVER_PORT/"
  [ "$(pyq 'd["REMOTE_ADDR"]' <<<"$output")" = 127.0.0.1 ] || fail "$output"
  # After the header, X-Forwarded-For counts only from a trusted address.
  run pp "v1:TCP4 192.0.2.24 198.51.100.2 2424 443" --tls --header "X-Forwarded-For: 6.6.6.6"
  [ "$(remote)" = "192.0.2.24 2424" ] || fail "$output"
}

@test "TLS address: no header, a bad one, an untrusted peer's: dropped unanswered, as on plain addresses" {
  start_pp_tls --processes 1 --header-timeout 2 tests.apps.echo_environ:app
  run pp none --tls
  expect_dropped
  run pp "raw:b'PROXY TCP4 192.0.2.1 198.51.100.2 1 65536\r\n'" --tls
  expect_dropped
  # A header, then nothing: the handshake is bounded by --header-timeout.
  local t0=$SECONDS
  run pp "v1:TCP4 192.0.2.1 198.51.100.2 1 2" --stall --wait 6
  expect_dropped
  [ $((SECONDS - t0)) -ge 1 ] && [ $((SECONDS - t0)) -le 4 ] || fail "closed after $((SECONDS - t0)) s"
  run pp "raw:b'PROXY TCP4 192.0.2.1 198.'" --stall --wait 6
  expect_dropped
  grep -q "expected a PROXY header: it starts with neither" "$SERVER_LOG"
  grep -q "expected a PROXY header: v1: a port is not 0-65535" "$SERVER_LOG"
  grep -q "no complete PROXY header within --header-timeout" "$SERVER_LOG"
  run pp "v1:TCP4 192.0.2.25 198.51.100.2 2525 443" --tls
  [ "$(remote)" = "192.0.2.25 2525" ] || fail "serving stopped: $output"
  stop_server
  start_pp_tls --processes 1 --forwarded-allow-ips 10.9.9.9 tests.apps.echo_environ:app
  run pp "v1:TCP4 192.0.2.1 198.51.100.2 1 2" --tls
  expect_dropped
  run pp none --tls --requests 2
  port="$(pyq 'd["local_port"]' <<<"$output")"
  [ "$(remote)" = "127.0.0.1 $port 127.0.0.1 $port" ] || fail "$output"
  grep -q "PROXY header from a peer not in --forwarded-allow-ips: closed" "$SERVER_LOG"
}

@test "TLS address in green mode (--threads 0): header then TLS, whole and a byte at a time" {
  "$PY" -c 'import gevent' 2>/dev/null || skip "gevent is not installed (Debian: python3-gevent)"
  start_pp_tls --processes 1 --threads 0 tests.apps.echo_environ:app
  run pp "v1:TCP4 192.0.2.31 198.51.100.2 3131 443" --tls --requests 2
  [ "$(remote)" = "192.0.2.31 3131 192.0.2.31 3131" ] || fail "$output"
  run pp "v2tlv:tcp6:2001:db8::32:3232" --tls --bytewise
  [ "$(remote)" = "2001:db8::32 3232" ] || fail "$output"
  run pp none --tls
  expect_dropped
}

# start_haproxy MODE SEND: HAProxy on a free port in front of the server,
# `mode MODE`, its server line with SEND (send-proxy / send-proxy-v2) and
# HTTP health checks, which HAProxy sends with the header too (a failing
# one would take the server down: 503s under the load below).
start_haproxy() {
  [[ -x "$HAPROXY" ]] || skip "haproxy is not installed (Debian: haproxy)"
  HAPROXY_PORT="$(free_port)"
  cat >"$BATS_TEST_TMPDIR/haproxy.cfg" <<EOF
global
    maxconn 512
defaults
    mode $1
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend front
    bind 127.0.0.1:$HAPROXY_PORT
    default_backend app
backend app
    option httpchk GET /health
    server app 127.0.0.1:$SERVER_PORT $2 check inter 200ms
EOF
  "$HAPROXY" -db -f "$BATS_TEST_TMPDIR/haproxy.cfg" >"$BATS_TEST_TMPDIR/haproxy.log" 2>&1 3>&- 4>&- &
  HAPROXY_PID=$!
  local i
  for ((i = 0; i < 50; i++)); do
    curl -s --noproxy '*' --max-time 1 -o /dev/null "http://127.0.0.1:$HAPROXY_PORT/" && return 0
    sleep 0.1
  done
  cat "$BATS_TEST_TMPDIR/haproxy.log" >&2
  return 1
}

# through_haproxy MODE SEND: the client's address reaches the app, then a
# short wrk load through HAProxy has no error.
through_haproxy() {
  start_haproxy "$1" "$2"
  run "${CURL[@]}" --interface 127.0.0.2 "http://127.0.0.1:$HAPROXY_PORT/via-haproxy"
  [ "$status" -eq 0 ] || fail "curl: $output"
  [ "$(pyq 'd["REMOTE_ADDR"]' <<<"$output")" = 127.0.0.2 ] || fail "$output"
  [ "$(pyq 'd["PATH_INFO"]' <<<"$output")" = /via-haproxy ]
  wait_access "^127\.0\.0\.2 .*/via-haproxy "
  wait_access "GET /health " # HAProxy's checks, with their header
  command -v wrk >/dev/null || return 0
  run wrk -t2 -c16 -d2s "http://127.0.0.1:$HAPROXY_PORT/"
  echo "$output"
  [[ "$output" =~ ([0-9]+)\ requests\ in ]]
  [ "${BASH_REMATCH[1]}" -gt 200 ]
  ! grep -q "Socket errors" <<<"$output" || fail "socket errors: $output"
  ! grep -q "Non-2xx" <<<"$output" || fail "non-2xx answers: $output"
}

@test "HAProxy send-proxy (v1, TCP mode) in front: the app sees curl's address, no error under load" {
  through_haproxy tcp send-proxy
}

@test "HAProxy send-proxy-v2 (HTTP mode) in front: the app sees curl's address, no error under load" {
  through_haproxy http send-proxy-v2
}

@test "HAProxy send-proxy and send-proxy-v2 to an ssl server (TLS address): curl's address, no error under load" {
  start_pp_tls --processes 1 --threads 2 -l "$BATS_TEST_TMPDIR/access.log" tests.apps.echo_environ:app
  ACCESS_LOG="$BATS_TEST_TMPDIR/access.log"
  through_haproxy http "ssl verify none send-proxy"
  kill "$HAPROXY_PID"
  wait "$HAPROXY_PID" 2>/dev/null || true
  through_haproxy tcp "ssl verify none send-proxy-v2"
}
