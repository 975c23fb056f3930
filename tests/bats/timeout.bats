#!/usr/bin/env bats
# --timeout: a request that runs past it gets 504 Gateway Timeout (when no
# byte of its response went out yet; else its connection is closed), the
# error log shows the stuck thread's Python stack (file, line, function),
# the access log the 504, and the child is replaced while the others serve.
# Inline (--threads 1), pooled (--threads 4) and green (--threads 0), on
# plain and TLS addresses.

bats_require_minimum_version 1.5.0
load helpers

LOAD="$BATS_TEST_DIRNAME/load.py"
APP_FILE="$SPAWNING_ROOT/tests/apps/hang.py"

teardown() {
  stop_server
}

# line_of TEXT: the line number of TEXT in tests/apps/hang.py.
line_of() {
  grep -nF -- "$1" "$APP_FILE" | head -1 | cut -d: -f1
}

# timed_curl URL [CURL ARGS...]: `curl -i` of URL into $output, its
# milliseconds into $took.
timed_curl() {
  local t0 t1
  t0=$(date +%s%N)
  run "${CURL[@]}" -i "${@:2}" "$1"
  t1=$(date +%s%N)
  took=$(( (t1 - t0) / 1000000 ))
  echo "$1: curl exit $status after $took ms; output:"
  echo "$output"
}

# timed_get PATH: timed_curl of PATH on the server's (plain) port.
timed_get() {
  timed_curl "$(url "$1")"
}

# Servers whose stuck child outlives the test get --graceful-timeout 2: the
# stop at the end then waits 2 s for it, not the 30 s default (cut at 5 s).

# start_tls_server ARGS...: spawning on a plain port (SERVER_PORT, what the
# helpers use) and a TLS one (TLS_PORT) with a self-signed certificate.
start_tls_server() {
  local d="$BATS_TEST_TMPDIR"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=127.0.0.1 -keyout "$d/key.pem" -out "$d/cert.pem" >/dev/null 2>&1 || return 1
  SERVER_PORT="$(free_port)"
  TLS_PORT="$(free_port)"
  export SERVER_PORT TLS_PORT
  launch_server -b "127.0.0.1:$SERVER_PORT" -b "https://127.0.0.1:$TLS_PORT" \
    --certfile "$d/cert.pem" --keyfile "$d/key.pem" "$@" || return 1
  wait_http "$SERVER_PORT"
}

# timed_get_tls PATH: timed_curl of PATH on the TLS port (curl -k).
timed_get_tls() {
  timed_curl "https://127.0.0.1:$TLS_PORT$1" -k
}

# tls_ending PATH [LEN]: tlsclient.py's `ending` of PATH on the TLS port
# (its status line, then "close_notify" or "cut"; with LEN a POST whose
# body stops 1000 bytes short).
tls_ending() {
  "$PY" "$BATS_TEST_DIRNAME/tlsclient.py" "$TLS_PORT" "$BATS_TEST_TMPDIR/cert.pem" ending "$@"
}

# expect_tls_served N: N new TLS connections in a row get /pid's 200.
expect_tls_served() {
  local i
  for ((i = 0; i < $1; i++)); do
    "${CURL[@]}" -k -o /dev/null "https://127.0.0.1:$TLS_PORT/pid" || fail "TLS request $i failed"
  done
}

# expect_504: the answer in $output is the 504, sent in time.
expect_504() {
  [ "$status" -eq 0 ] || fail "curl failed ($status)"
  [[ "$(head -1 <<<"$output" | tr -d '\r')" == "HTTP/1.1 504 Gateway Timeout" ]] || fail "no 504"
  [ "$(header Connection <<<"$output")" = close ] || fail "no Connection: close"
  # --timeout 2, looked at 4 times a second; the rest is slack for a busy machine
  [ "$took" -ge 2000 ] && [ "$took" -lt 3500 ] || fail "504 after $took ms"
}

# expect_stack PATH FUNCTION LINE...: the error log names PATH's request
# (a GET, or $METHOD), then FUNCTION in tests/apps/hang.py at one of the
# LINEs, innermost last among the app's frames.
expect_stack() {
  local path="$1" fn="$2" method="${METHOD:-GET}" lines; shift 2
  lines="$(IFS='|'; echo "$*")"
  for i in $(seq 30); do grep -qF "request $method $path ran past --timeout 2 s" "$SERVER_LOG" && break; sleep 0.1; done
  grep -qE "\[ERROR\] request $method ${path//\?/\\?} ran past --timeout 2 s (on thread [0-9]+|in its greenlet \(waiting on the hub\)); its stack \(most recent call last\)" "$SERVER_LOG" \
    || fail "no stack title for $path"
  grep -A12 -F "request $method $path ran past" "$SERVER_LOG" |
    grep -qE "^  File \"$APP_FILE\", line ($lines), in $fn\$" || fail "no frame of $fn at line $lines"
}

# expect_access_504 PATH: the access log line of PATH's request (a GET, or
# $METHOD) says 504 (written by the log's flusher within a second).
expect_access_504() {
  local line="\"${METHOD:-GET} $1 HTTP/1.1\" 504 "
  for i in $(seq 30); do grep -qF "$line" "$SERVER_LOG" && break; sleep 0.1; done
  grep -qF "$line" "$SERVER_LOG" || fail "no 504 in the access log for $1"
}

# stuck_pid PATH: the child that logged PATH's overrun.
stuck_pid() {
  grep -F "request GET $1 ran past" "$SERVER_LOG" | head -1 | sed -E 's/^\[[^]]*\] \[([0-9]+)\].*/\1/'
}

# expect_replaced PID: the controller replaced PID for --timeout, and the
# children serving now do not include it.
expect_replaced() {
  local pid="$1" i
  for i in $(seq 40); do grep -qE "replacing child $pid \(--timeout: " "$SERVER_LOG" && break; sleep 0.1; done
  grep -qE "replacing child $pid \(--timeout: " "$SERVER_LOG" || fail "child $pid not replaced"
  for i in $(seq 40); do grep -qE "stopping child $pid " "$SERVER_LOG" && break; sleep 0.1; done
  for i in $(seq 10); do
    [ "$(get /pid)" != "$pid" ] || fail "the replaced child $pid still takes requests"
  done
}

# green_under_asan: greenlet switches stacks with memcpy, which ASan's
# memcpy checks misreport (see green.bats); off for green-mode servers.
green_under_asan() {
  if [[ "${SPAWNING_BUILD:-}" == *asan* ]]; then
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}replace_intrin=0"
  fi
}

SPIN_LINES() { echo "$(line_of 'while time.monotonic() < end')" "$(( $(line_of 'while time.monotonic() < end') + 1 ))"; }

@test "--threads 1: a Python loop past --timeout gets 504 and its stack; the other process serves" {
  start_server --processes 2 --threads 1 --timeout 2 --graceful-timeout 2 tests.apps.hang:app
  wait_ready 2
  local stop="$BATS_TEST_TMPDIR/stop" others="$BATS_TEST_TMPDIR/others"
  # new connections only: a keep-alive one held by the stuck child waits
  # with it when the I/O thread itself runs the request (--threads 1). One
  # thread serves one request: a request that reached the stuck child in
  # the same instant as /spin (within 0.3 s of it) waits with it, as it
  # would on any one-thread server; the others must all succeed.
  local spun="$BATS_TEST_TMPDIR/spin-start"
  ( ok=0; bad=0; raced=0; while [ ! -e "$stop" ]; do
      t0=$(date +%s.%N)
      if "${CURL[@]}" --max-time 2 -o /dev/null "$(url /pid)"; then ok=$((ok+1));
      elif [ -e "$spun" ] && "$PY" -c 'import sys; sys.exit(not abs(float(sys.argv[1]) - float(open(sys.argv[2]).read())) < 0.3)' "$t0" "$spun"; then
        raced=$((raced+1))
      else bad=$((bad+1)); date +%T.%N >&2; fi
    done; echo "ok=$ok failed=$bad" >"$others"; echo "raced with /spin: $raced" >&2 ) &
  local loop=$!
  date +%s.%N >"$spun"
  timed_get '/spin?s=30'
  expect_504
  expect_stack '/spin?s=30' spin $(SPIN_LINES)
  expect_access_504 '/spin?s=30'
  expect_replaced "$(stuck_pid '/spin?s=30')"
  touch "$stop"; wait "$loop"
  cat "$others"
  grep -qE '^ok=[1-9][0-9]* failed=0$' "$others"
}

# nap_504_under_load TARGET GET: while load.py runs on TARGET (a port, or
# https:PORT), GET (timed_get or timed_get_tls) of /nap?s=30 gets its 504,
# its stack is logged, its child replaced, and the load fails nothing.
nap_504_under_load() {
  local stop="$BATS_TEST_TMPDIR/stop" load
  "$PY" "$LOAD" "$1" "$stop" 2 /pid 30 >"$BATS_TEST_TMPDIR/load" &
  load=$!
  "$2" '/nap?s=30'
  expect_504
  expect_stack '/nap?s=30' nap "$(line_of 'time.sleep(seconds)')"
  expect_access_504 '/nap?s=30'
  expect_replaced "$(stuck_pid '/nap?s=30')"
  touch "$stop"; wait "$load"
  cat "$BATS_TEST_TMPDIR/load"
  grep -qE '^ok=[1-9][0-9]* failed=0$' "$BATS_TEST_TMPDIR/load"
}

@test "--threads 4: time.sleep past --timeout gets 504 and its stack; others keep being served" {
  start_server --processes 2 --threads 4 --timeout 2 --graceful-timeout 2 tests.apps.hang:app
  wait_ready 2
  nap_504_under_load "$SERVER_PORT" timed_get
}

@test "--threads 4: the other requests of the timed-out child finish (graceful replacement)" {
  start_server --processes 1 --threads 4 --timeout 3 tests.apps.hang:app
  local d="$BATS_TEST_TMPDIR"
  "${CURL[@]}" -o /dev/null -w '%{http_code}' "$(url '/nap?s=2.5')" >"$d/before.code" &
  local before=$!
  sleep 0.5
  "${CURL[@]}" -o /dev/null -w '%{http_code}' "$(url '/nap?s=30')" >"$d/stuck.code" &
  local stuck=$!
  sleep 1.5
  # runs on through the 504 (at 3.5 s) and the replacement
  "${CURL[@]}" -o /dev/null -w '%{http_code}' "$(url '/nap?s=2.5')" >"$d/during.code" &
  local during=$!
  wait "$before" "$stuck" "$during"
  echo "before $(cat "$d/before.code"), stuck $(cat "$d/stuck.code"), during $(cat "$d/during.code")"
  [ "$(cat "$d/before.code")" = 200 ]
  [ "$(cat "$d/stuck.code")" = 504 ]
  [ "$(cat "$d/during.code")" = 200 ]
  grep -qF "request GET /nap?s=30 ran past --timeout 3 s on thread" "$SERVER_LOG"
  expect_replaced "$(stuck_pid '/nap?s=30')"
}

@test "green mode: a greenlet that blocks the hub, and one that waits on it, get 504 and their stacks" {
  green_under_asan
  start_server --processes 2 --threads 0 --timeout 2 --graceful-timeout 2 tests.apps.hang:app
  wait_ready 2
  timed_get '/spin?s=30'
  expect_504
  expect_stack '/spin?s=30' spin $(SPIN_LINES)
  grep -qE "request GET /spin\?s=30 ran past --timeout 2 s on thread [0-9]+" "$SERVER_LOG"
  expect_access_504 '/spin?s=30'
  expect_replaced "$(stuck_pid '/spin?s=30')"
  timed_get '/nap?s=30' # time.sleep is gevent's here: the hub runs on
  expect_504
  expect_stack '/nap?s=30' nap "$(line_of 'time.sleep(seconds)')"
  grep -qF "request GET /nap?s=30 ran past --timeout 2 s in its greenlet (waiting on the hub)" "$SERVER_LOG"
  expect_access_504 '/nap?s=30'
}

# expect_trickle_cut THREADS: the timed curl of /trickle?s=30 (in $status,
# $output, $took) was cut short past --timeout, without a 504; its stack
# is logged, saying so.
expect_trickle_cut() {
  [ "$status" -eq 18 ] || fail "threads $1: curl exit $status, not 18 (transfer closed early)"
  [[ "$output" == *"HTTP/1.1 200 OK"* ]]
  [[ "$output" == *"first chunk"* ]]
  [[ "$output" != *"504"* ]]
  [ "$took" -lt 3500 ]
  expect_stack '/trickle?s=30' nap "$(line_of 'time.sleep(seconds)')"
  grep -qF "request GET /trickle?s=30 ran past --timeout 2 s" "$SERVER_LOG"
  grep -F "request GET /trickle?s=30 ran past" "$SERVER_LOG" | grep -qF "(its response had begun: connection closed)"
  ! grep -qF '"GET /trickle?s=30 HTTP/1.1" 504 ' "$SERVER_LOG"
}

@test "a response already begun is closed, without a 504; its stack is logged" {
  for threads in 1 0; do
    [ "$threads" = 0 ] && green_under_asan
    start_server --processes 1 --threads "$threads" --timeout 2 --graceful-timeout 2 tests.apps.hang:app
    timed_get '/trickle?s=30'
    expect_trickle_cut "$threads"
    stop_server
  done
}

@test "over TLS, --threads 1: a Python loop past --timeout gets 504 and its stack; TLS goes on being served" {
  start_tls_server --processes 2 --threads 1 --timeout 2 --graceful-timeout 2 tests.apps.hang:app
  wait_ready 2
  timed_get_tls '/spin?s=30'
  expect_504
  expect_stack '/spin?s=30' spin $(SPIN_LINES)
  expect_access_504 '/spin?s=30'
  ! grep -F "request GET /spin?s=30 ran past" "$SERVER_LOG" | grep -qF "connection closed"
  expect_replaced "$(stuck_pid '/spin?s=30')"
  expect_tls_served 10 # while the stuck one still spins
}

@test "over TLS, --threads 4: time.sleep past --timeout gets 504 and its stack; others keep being served" {
  start_tls_server --processes 2 --threads 4 --timeout 2 --graceful-timeout 2 tests.apps.hang:app
  wait_ready 2
  nap_504_under_load "https:$TLS_PORT" timed_get_tls
  # the 504 is whole and the TLS stream ends cleanly
  run tls_ending '/nap?s=29'
  [ "$output" = $'HTTP/1.1 504 Gateway Timeout\nclose_notify' ] || fail "the 504 over TLS ended: $output"
}

@test "over TLS, green mode: a greenlet that waits on the hub, and one that blocks it, get 504 and their stacks" {
  green_under_asan
  start_tls_server --processes 2 --threads 0 --timeout 2 --graceful-timeout 2 tests.apps.hang:app
  wait_ready 2
  nap_504_under_load "https:$TLS_PORT" timed_get_tls # the hub runs on: its child serves meanwhile
  grep -qF "request GET /nap?s=30 ran past --timeout 2 s in its greenlet (waiting on the hub)" "$SERVER_LOG"
  timed_get_tls '/spin?s=30'
  expect_504
  grep -qE "request GET /spin\?s=30 ran past --timeout 2 s on thread [0-9]+" "$SERVER_LOG"
  expect_stack '/spin?s=30' spin $(SPIN_LINES)
  expect_access_504 '/spin?s=30'
}

@test "over TLS, a response already begun is closed without a 504 (and without close_notify)" {
  for threads in 1 4 0; do
    [ "$threads" = 0 ] && green_under_asan
    start_tls_server --processes 1 --threads "$threads" --timeout 2 --graceful-timeout 2 tests.apps.hang:app
    # One after the other: with --threads 1 a request the loop accepted
    # beside the stuck one would wait behind it until the child is killed.
    run tls_ending '/trickle?s=29'
    [ "$output" = $'HTTP/1.1 200 OK\ncut' ] || fail "threads $threads: the response begun ended: $output"
    local i
    for i in $(seq 50); do [ "$(ready_count)" -ge 2 ] && break; sleep 0.1; done
    timed_get_tls '/trickle?s=30' # on the child that replaced the stuck one
    expect_trickle_cut "$threads"
    stop_server
  done
}

# expect_slurp_504 T0 EXPECTED: $output, the status lines a /slurp client
# (a POST whose body never comes whole) saw, is EXPECTED, the 504 came 2 to
# 3.5 s after T0 (date +%s%N), the error log shows slurp's stack and the
# access log the 504; then the server stops.
expect_slurp_504() {
  local took=$(( ($(date +%s%N) - $1) / 1000000 ))
  echo "threads $threads: after $took ms: $output"
  [ "$output" = "$2" ] || fail "threads $threads: no 504"
  [ "$took" -ge 2000 ] && [ "$took" -lt 3500 ] || fail "504 after $took ms"
  METHOD=POST expect_stack /slurp slurp "$(line_of 'return stream.read()')"
  METHOD=POST expect_access_504 /slurp
  stop_server
}

@test "over TLS, a request stuck reading its body gets its 504 (threads 1, 4, green)" {
  for threads in 1 4 0; do
    [ "$threads" = 0 ] && green_under_asan
    start_tls_server --processes 1 --threads "$threads" --timeout 2 --graceful-timeout 2 tests.apps.hang:app
    local t0=$(date +%s%N)
    run tls_ending /slurp 100000
    expect_slurp_504 "$t0" $'HTTP/1.1 504 Gateway Timeout\nclose_notify'
  done
}

@test "a request stuck reading its body after \"100 Continue\" still gets its 504 (threads 1, 4, green)" {
  local threads
  for threads in 1 4 0; do
    [ "$threads" != 0 ] || green_under_asan
    start_server --processes 1 --threads "$threads" --timeout 2 --graceful-timeout 2 tests.apps.hang:app
    local t0=$(date +%s%N)
    # The body never comes: the app waits in wsgi.input's read.
    run --separate-stderr "$PY" "$RAWHTTP" "$SERVER_PORT" \
      'POST /slurp HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n'
    output="$(grep -a '^HTTP/' <<<"$output" | tr -d '\r')"
    expect_slurp_504 "$t0" $'HTTP/1.1 100 Continue\nHTTP/1.1 504 Gateway Timeout'
  done
}

# closed_total STATUS_PORT REASON: spawning_connections_closed_total{reason=REASON}.
closed_total() {
  curl -s "http://127.0.0.1:$1/metrics" |
    sed -n "s/^spawning_connections_closed_total{reason=\"$2\"} //p"
}

@test "the connection of a request past --timeout counts as closed for request_timeout" {
  local sp i n
  sp=$(free_port)
  start_server --processes 1 --threads 4 --timeout 2 --graceful-timeout 2 --status-port "$sp" --admin-socket none tests.apps.hang:app
  wait_ready 1
  timed_get '/nap?s=3'
  expect_504
  # The stuck request ends after 3 s: its connection closes then.
  for i in $(seq 50); do
    n=$(closed_total "$sp" request_timeout)
    [ "$n" = 1 ] && break
    sleep 0.1
  done
  [ "$n" = 1 ] || fail "request_timeout closes: $n"
  [ "$(closed_total "$sp" client_gone)" = 0 ]
  [ "$(closed_total "$sp" none)" = 0 ]
}

@test "without --timeout nothing is watched: a long request just runs" {
  start_server --processes 1 --threads 1 tests.apps.hang:app
  timed_get '/nap?s=2.5'
  [ "$status" -eq 0 ]
  [[ "$(head -1 <<<"$output" | tr -d '\r')" == "HTTP/1.1 200 OK" ]]
  ! grep -q "ran past --timeout" "$SERVER_LOG"
}
