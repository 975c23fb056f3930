#!/usr/bin/env bats
# TLS served by the child itself: real clients (curl, openssl s_client,
# Python's ssl), SNI, mutual TLS, tickets shared by children, bad input on
# the TLS port, and certificates renewed by a reload under load.

load helpers

SPAWNCTL="$SPAWNING_BUILD_DIR/spawnctl"
TLSCLIENT="$BATS_TEST_DIRNAME/tlsclient.py"
LINGERCLIENT="$BATS_TEST_DIRNAME/lingerclient.py"

# A CA, servers a.test (also 127.0.0.1) and b.test, a client certificate.
make_certs() {
  local d="$1"
  (
    cd "$d" || exit 1
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
      -subj /CN=test-ca -keyout ca.key -out ca.pem
    for n in a b; do
      openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$n.test" \
        -keyout "$n.key" -out "$n.csr"
      printf 'subjectAltName=DNS:%s.test,IP:127.0.0.1\n' "$n" >"$n.ext"
      openssl x509 -req -in "$n.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
        -extfile "$n.ext" -out "$n.pem"
    done
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/O=clients/CN=alice" \
      -keyout client.key -out client.csr
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
      -out client.pem
  ) >/dev/null 2>&1
}

setup_file() {
  CERTS="$BATS_FILE_TMPDIR/certs"
  mkdir -p "$CERTS"
  make_certs "$CERTS"
  export CERTS
}

teardown() {
  stop_server
}

teardown_file() {
  kill_all_tagged
}

# start_tls ARGS...: spawning serving TLS on a free port with a.test's and
# b.test's certificates (a.test the default), waiting until it answers.
start_tls() {
  SERVER_PORT="$(free_port)"
  export SERVER_PORT
  launch_server --host 127.0.0.1 --port "$SERVER_PORT" --certfile "$CERTS/a.pem" \
    --keyfile "$CERTS/a.key" --certfile "$CERTS/b.pem" --keyfile "$CERTS/b.key" "$@" || return 1
  local i
  for ((i = 0; i < 100; i++)); do
    curl -s -o /dev/null --cacert "$CERTS/ca.pem" ${TLS_PROBE_ARGS:-} \
      "https://127.0.0.1:$SERVER_PORT/" && return 0
    proc_alive "$SERVER_PID" || break
    sleep 0.1
  done
  fail "the TLS server never answered"
}

tls_get() {
  curl -sS --max-time 10 --cacert "$CERTS/ca.pem" "https://127.0.0.1:$SERVER_PORT$1" "${@:2}"
}

@test "https: curl with --cacert gets the answer; the environ says https" {
  start_tls --processes 1 tests.apps.tls_app:app
  run tls_get /
  [ "$status" -eq 0 ]
  [ "$output" = "Hello, TLS!" ]
  run tls_get /env
  [ "$status" -eq 0 ]
  expect_eq "d['wsgi.url_scheme']" https
  expect_eq "d['HTTPS']" on
  expect_eq "d['SSL_PROTOCOL']" TLSv1.3
  expect_eq "str(d['SSL_CIPHER'].startswith('TLS_'))" True
  expect_eq "d['SERVER_PORT']" "$SERVER_PORT"
  expect_eq "str('SSL_CLIENT_S_DN' in d)" False
  assert_log_clean
}

@test "https: TLS 1.2 and 1.3 with ALPN http/1.1; TLS 1.1 refused; SNI picks the certificate" {
  start_tls --processes 1 tests.apps.tls_app:app
  run bash -c "openssl s_client -connect 127.0.0.1:$SERVER_PORT -alpn h2,http/1.1 -tls1_3 \
    -servername a.test -CAfile $CERTS/ca.pem </dev/null 2>&1"
  [[ "$output" == *"ALPN protocol: http/1.1"* ]]
  [[ "$output" == *"Protocol  : TLSv1.3"* || "$output" == *"TLSv1.3"* ]]
  [[ "$output" == *"Verify return code: 0 (ok)"* ]]
  run bash -c "openssl s_client -connect 127.0.0.1:$SERVER_PORT -tls1_2 \
    -servername b.test -CAfile $CERTS/ca.pem </dev/null 2>&1"
  [[ "$output" == *"subject=CN = b.test"* ]]
  [[ "$output" == *"TLSv1.2"* ]]
  run bash -c "openssl s_client -connect 127.0.0.1:$SERVER_PORT -tls1_1 -cipher DEFAULT@SECLEVEL=0 \
    </dev/null 2>&1"
  [[ "$output" == *"Cipher is (NONE)"* ]]
  [[ "$output" == *"alert protocol version"* ]]
  run bash -c "openssl s_client -connect 127.0.0.1:$SERVER_PORT -alpn h2 </dev/null 2>&1"
  [[ "$output" == *"alert no application protocol"* || "$output" == *"no application protocol"* ]]
  run tls_get /
  [ "$output" = "Hello, TLS!" ]
}

@test "https: keep-alive over one TLS connection; tickets resume on any child" {
  start_tls --processes 2 tests.apps.tls_app:app
  wait_ready 2
  run "$PY" "$TLSCLIENT" "$SERVER_PORT" "$CERTS/ca.pem" keepalive 50
  [ "$status" -eq 0 ]
  [[ "$output" == "ok 50 TLSv1.3 http/1.1" ]]
  run "$PY" "$TLSCLIENT" "$SERVER_PORT" "$CERTS/ca.pem" resume 10
  [ "$status" -eq 0 ]
  [[ "$output" == *"TLSv1_2 resumed 10 of 10"* ]]
  [[ "$output" == *"TLSv1_3 resumed 10 of 10"* ]]
}

@test "https: wsgi.file_wrapper sends a file whole" {
  start_tls --processes 1 tests.apps.tls_app:app
  head -c 3000000 /dev/urandom >"$BATS_TEST_TMPDIR/blob"
  tls_get "/file?path=$BATS_TEST_TMPDIR/blob" -o "$BATS_TEST_TMPDIR/got"
  cmp "$BATS_TEST_TMPDIR/blob" "$BATS_TEST_TMPDIR/got"
}

@test "mutual TLS: --verify-client refuses a client without a certificate; the subject reaches the app" {
  TLS_PROBE_ARGS="--cert $CERTS/client.pem --key $CERTS/client.key" \
    start_tls --processes 1 --ca-certs "$CERTS/ca.pem" --verify-client tests.apps.tls_app:app
  run tls_get /
  [ "$status" -ne 0 ]
  run tls_get /env --cert "$CERTS/client.pem" --key "$CERTS/client.key"
  [ "$status" -eq 0 ]
  expect_eq "d['SSL_CLIENT_S_DN']" "CN=alice,O=clients"
  expect_eq "d['SSL_CLIENT_VERIFY']" SUCCESS
}

@test "garbage, plain HTTP and silence on the TLS port: closed cleanly, the server keeps serving" {
  start_tls --processes 1 --header-timeout 1 tests.apps.tls_app:app
  run "$PY" -c "
import socket, sys
s = socket.create_connection(('127.0.0.1', $SERVER_PORT), timeout=5)
s.sendall(b'GET / HTTP/1.1\r\nHost: x\r\n\r\n')
data = b''
while True:
    chunk = s.recv(4096)
    if not chunk: break
    data += chunk
print(data.split(b'\r\n')[0].decode())
"
  [ "$output" = "HTTP/1.1 400 Bad Request" ]
  run "$PY" -c "
import os, socket
s = socket.create_connection(('127.0.0.1', $SERVER_PORT), timeout=5)
s.sendall(b'\x16\x03\x01' + os.urandom(3000))
try:
    print('closed', len(s.recv(4096)) >= 0)
except ConnectionResetError:
    print('closed', True)
"
  [[ "$output" == "closed True" ]]
  # A handshake begun and not finished is let go after --header-timeout.
  run "$PY" -c "
import socket, time
s = socket.create_connection(('127.0.0.1', $SERVER_PORT), timeout=10)
s.sendall(bytes([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]))
t = time.monotonic()
s.recv(1)
print('closed after %.1f' % (time.monotonic() - t))
"
  [[ "$output" == "closed after 0.9"* || "$output" == "closed after 1."* ]]
  run tls_get /
  [ "$output" = "Hello, TLS!" ]
  proc_alive "$SERVER_PID"
  assert_no_sanitizer_report
}

@test "reload with a renewed certificate under load: 0 failed requests, the new certificate served" {
  local live="$BATS_TEST_TMPDIR/live"
  mkdir -p "$live"
  cp "$CERTS/a.pem" "$CERTS/a.key" "$live/"
  SERVER_PORT="$(free_port)"
  export SERVER_PORT
  launch_server --host 127.0.0.1 --port "$SERVER_PORT" --processes 2 \
    --certfile "$live/a.pem" --keyfile "$live/a.key" tests.apps.tls_app:app
  wait_ready 2
  local old_serial new_serial
  old_serial="$(openssl x509 -in "$live/a.pem" -noout -serial | cut -d= -f2)"
  "$PY" "$TLSCLIENT" "$SERVER_PORT" "$CERTS/ca.pem" load 6 "$BATS_TEST_TMPDIR/load.out" &
  local loader=$!
  sleep 1.5
  # Renew: a new key and certificate for a.test, same CA.
  (cd "$CERTS" && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -subj /CN=a.test -keyout "$live/new.key" -out "$live/new.csr" &&
    openssl x509 -req -in "$live/new.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
      -extfile a.ext -out "$live/new.pem") >/dev/null 2>&1
  mv "$live/new.key" "$live/a.key"
  mv "$live/new.pem" "$live/a.pem"
  new_serial="$(openssl x509 -in "$live/a.pem" -noout -serial | cut -d= -f2)"
  kill -HUP "$SERVER_PID"
  wait "$loader"
  read -r word done failed serials <"$BATS_TEST_TMPDIR/load.out"
  cat "$BATS_TEST_TMPDIR/load.out" >&2
  [ "$failed" -eq 0 ]
  [ "$done" -gt 20 ]
  [[ "$serials" == *"$old_serial"* && "$serials" == *"$new_serial"* ]]
  run bash -c "openssl s_client -connect 127.0.0.1:$SERVER_PORT </dev/null 2>/dev/null | openssl x509 -noout -serial"
  [ "$output" = "serial=$new_serial" ]
}

@test "reload with a broken certificate: the old generation keeps serving the old one" {
  local live="$BATS_TEST_TMPDIR/live"
  mkdir -p "$live"
  cp "$CERTS/a.pem" "$CERTS/a.key" "$live/"
  SERVER_PORT="$(free_port)"
  export SERVER_PORT
  launch_server --host 127.0.0.1 --port "$SERVER_PORT" --processes 1 \
    --certfile "$live/a.pem" --keyfile "$live/a.key" tests.apps.tls_app:app
  wait_ready 1
  echo "not a certificate" >"$live/a.pem"
  kill -HUP "$SERVER_PID"
  local i
  for ((i = 0; i < 100; i++)); do
    grep -q "reload failed" "$SERVER_LOG" && break
    sleep 0.1
  done
  grep "reload failed" "$SERVER_LOG"
  grep -q "a.pem" "$SERVER_LOG"
  run tls_get /
  [ "$output" = "Hello, TLS!" ]
}

@test "TLS options: a missing file, https:// without --certfile, --verify-client without --ca-certs: exit 2" {
  run "$SPAWNING" --certfile /nonexistent.pem tests.apps.tls_app:app
  [ "$status" -eq 2 ]
  [[ "$output" == *"--certfile: /nonexistent.pem"* ]]
  run "$SPAWNING" -b https://127.0.0.1:0 tests.apps.tls_app:app
  [ "$status" -eq 2 ]
  [[ "$output" == *"--certfile: required"* ]]
  run "$SPAWNING" --certfile "$CERTS/a.pem" --keyfile "$CERTS/a.key" --verify-client tests.apps.tls_app:app
  [ "$status" -eq 2 ]
  [[ "$output" == *"--verify-client"* ]]
}

@test "https:// and http:// side by side: only the https address speaks TLS" {
  local plain tls
  plain="$(free_port)"
  tls="$(free_port)"
  SERVER_PORT="$tls"
  export SERVER_PORT
  launch_server -b "http://127.0.0.1:$plain" -b "https://127.0.0.1:$tls" \
    --certfile "$CERTS/a.pem" --keyfile "$CERTS/a.key" tests.apps.tls_app:app
  wait_http "$plain"
  [ "$(curl -s "http://127.0.0.1:$plain/")" = "Hello, TLS!" ]
  run tls_get /
  [ "$output" = "Hello, TLS!" ]
  run curl -s "http://127.0.0.1:$tls/"
  [[ "$output" != "Hello, TLS!" ]]
}

@test "https in green mode and with --threads 4: the same answers, keep-alive, a file" {
  for threads in 0 4; do
    start_tls --processes 1 --threads "$threads" tests.apps.tls_app:app
    run tls_get /
    [ "$output" = "Hello, TLS!" ]
    run "$PY" "$TLSCLIENT" "$SERVER_PORT" "$CERTS/ca.pem" keepalive 20
    [[ "$output" == "ok 20 TLSv1.3 http/1.1" ]]
    head -c 1000000 /dev/urandom >"$BATS_TEST_TMPDIR/blob"
    tls_get "/file?path=$BATS_TEST_TMPDIR/blob" -o "$BATS_TEST_TMPDIR/got"
    cmp "$BATS_TEST_TMPDIR/blob" "$BATS_TEST_TMPDIR/got"
    stop_server
  done
}

# start_side_by_side THREADS ARGS...: spawning on a plain address (PLAIN_PORT)
# and a TLS one (SERVER_PORT), --threads THREADS, waiting until it answers.
start_side_by_side() {
  PLAIN_PORT="$(free_port)"
  SERVER_PORT="$(free_port)"
  export PLAIN_PORT SERVER_PORT
  launch_server -b "http://127.0.0.1:$PLAIN_PORT" -b "https://127.0.0.1:$SERVER_PORT" \
    --certfile "$CERTS/a.pem" --keyfile "$CERTS/a.key" --processes 1 --threads "$1" "${@:2}" \
    tests.apps.tls_app:app
  wait_http "$PLAIN_PORT"
}

@test "an error answer to a client still sending is read whole, never reset: plain and TLS addresses, threaded and green" {
  # MiBs sent past the point of the answer: closed at once, the unread
  # bytes would make the close a reset that destroys the answer.
  local threads kind
  for threads in 4 0; do
    start_side_by_side "$threads" --limit-request-body 100K
    for kind in 413 400 431; do
      run "$PY" "$LINGERCLIENT" answers "$PLAIN_PORT" "$kind" 3
      echo "--threads $threads, plain: $output"
      [ "$output" = "$kind $kind whole=3 reset=0 other=0" ]
    done
    run "$PY" "$LINGERCLIENT" answers "$SERVER_PORT" not-tls 3
    echo "--threads $threads, TLS: $output"
    [ "$output" = "not-tls 400 whole=3 reset=0 other=0" ]
    run tls_get /
    [ "$output" = "Hello, TLS!" ]
    stop_server
  done
}

@test "the lingering close is bounded: a client that keeps the connection is let go after 2 s; a stop waits no longer" {
  local threads holder
  for threads in 4 0; do
    start_side_by_side "$threads"
    run "$PY" "$LINGERCLIENT" bound "$PLAIN_PORT"
    echo "--threads $threads: $output"
    [[ "$output" == "let go after 1.9" || "$output" == "let go after "[23].* ]]
    "$PY" "$LINGERCLIENT" hold "$PLAIN_PORT" 30 >"$BATS_TEST_TMPDIR/hold" &
    holder=$!
    for ((i = 0; i < 100; i++)); do
      grep -q answered "$BATS_TEST_TMPDIR/hold" && break
      sleep 0.1
    done
    [ "$(cat "$BATS_TEST_TMPDIR/hold")" = answered ]
    kill -TERM "$SERVER_PID"
    wait_exit "$SERVER_PID" 5
    kill "$holder"
    wait "$holder" || true
    assert_no_sanitizer_report
  done
}
