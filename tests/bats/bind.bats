#!/usr/bin/env bats
# Where Spawning listens: -b/--bind (TCP v4/v6, unix:PATH, fd://N), systemd
# socket activation and sd_notify, and reloads on every kind of socket.

bats_require_minimum_version 1.5.0
load helpers

LOAD="$BATS_TEST_DIRNAME/load.py"
NOTIFY="$BATS_TEST_DIRNAME/sd_notify_listener.py"

teardown() {
  [[ -n "${NOTIFY_PID:-}" ]] && kill "$NOTIFY_PID" 2>/dev/null
  stop_server
  kill_all_tagged
}

# ucurl PATH URL-PATH [CURL ARGS...]: curl over the UNIX socket PATH.
ucurl() {
  local sock="$1" path="$2"; shift 2
  "${CURL[@]}" --unix-socket "$sock" "$@" "http://localhost$path"
}

# wait_unix PATH: wait up to 10 s until the server answers on socket PATH.
wait_unix() {
  local i
  for ((i = 0; i < 100; i++)); do
    proc_alive "$SERVER_PID" || { show_log; return 1; }
    curl -s --max-time 1 --unix-socket "$1" -o /dev/null http://localhost/ && return 0
    sleep 0.1
  done
  show_log
  return 1
}

# inode PATH: the inode of a file.
inode() {
  stat -c %i "$1"
}

@test "unix:PATH: curl gets answers; the socket is mode 0660 from the start and removed at exit" {
  local sock="$BATS_TEST_TMPDIR/app.sock"
  launch_server -b "unix:$sock" --processes 1 tests.apps.hello:app
  wait_unix "$sock"
  [ "$(ucurl "$sock" /)" = "Hello, World!" ]
  [ "$(stat -c %a "$sock")" = 660 ]
  [ -S "$sock" ]
  stop_server
  [ ! -e "$sock" ] || fail "the socket file is left behind"
}

@test "--unix-socket-mode sets the socket's permissions" {
  local sock="$BATS_TEST_TMPDIR/app.sock"
  launch_server -b "unix:$sock" --unix-socket-mode 0600 --processes 1 tests.apps.hello:app
  wait_unix "$sock"
  [ "$(stat -c %a "$sock")" = 600 ]
  launch_server -b "unix:$BATS_TEST_TMPDIR/wide.sock" --unix-socket-mode 666 --processes 1 \
    --admin-socket none tests.apps.hello:app
  wait_unix "$BATS_TEST_TMPDIR/wide.sock"
  [ "$(stat -c %a "$BATS_TEST_TMPDIR/wide.sock")" = 666 ]
}

@test "unix:PATH: a stale socket file is replaced, a live one or a plain file is refused" {
  local sock="$BATS_TEST_TMPDIR/app.sock"
  # A stale socket: bound, then its owner went away without removing it.
  "$PY" -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$sock"
  [ -S "$sock" ]
  launch_server -b "unix:$sock" --processes 1 tests.apps.hello:app
  wait_unix "$sock"
  local first_pid="$SERVER_PID" first_log="$SERVER_LOG"
  # A second server on the same live socket: refused, the first one unharmed.
  run "$SPAWNING" -b "unix:$sock" --processes 1 --admin-socket none tests.apps.hello:app
  [ "$status" -eq 1 ]
  [[ "$output" == *"unix:$sock"*"another server"* ]] || fail "$output"
  [ "$(ucurl "$sock" /)" = "Hello, World!" ]
  # A regular file is never replaced.
  echo keep >"$BATS_TEST_TMPDIR/plain"
  run "$SPAWNING" -b "unix:$BATS_TEST_TMPDIR/plain" --processes 1 --admin-socket none \
    tests.apps.hello:app
  [ "$status" -eq 1 ]
  [[ "$output" == *"not a socket"* ]] || fail "$output"
  [ "$(cat "$BATS_TEST_TMPDIR/plain")" = keep ]
}

@test "unix:PATH in a missing directory: one line naming it, exit 1, nothing left behind" {
  local port
  port=$(free_port)
  run -1 "$SPAWNING" -b "127.0.0.1:$port" -b "unix:$BATS_TEST_TMPDIR/no/such/dir/app.sock" \
    --processes 1 tests.apps.hello:app
  [[ "$output" == *"unix:$BATS_TEST_TMPDIR/no/such/dir/app.sock"*"No such file or directory"* ]] ||
    fail "$output"
  [ "$(grep -c . <<<"$output")" -eq 1 ] || fail "more than one line: $output"
  # The TCP socket bound before it was closed again.
  ! ss -Hltn "sport = :$port" | grep -q . || fail "port $port still bound"
}

@test "-b: a bad address is a usage error naming --bind" {
  run -2 "$SPAWNING" -b "localhost" tests.apps.hello:app
  [[ "$output" == *"--bind"*"'localhost'"* ]] || fail "$output"
  [ "$(grep -c . <<<"$output")" -eq 1 ]
  run -2 "$SPAWNING" --bind "fd://nope" tests.apps.hello:app
  [[ "$output" == *"--bind"* ]]
}

@test "-b is repeatable: IPv4, [IPv6] and a UNIX socket served by the same children" {
  local p4 p6 sock="$BATS_TEST_TMPDIR/app.sock"
  p4=$(free_port)
  p6=$(free_port)
  SERVER_PORT="$p4"
  launch_server -b "127.0.0.1:$p4" -b "[::1]:$p6" -b "unix:$sock" --processes 2 \
    tests.apps.hello:app
  wait_http "$p4"
  wait_unix "$sock"
  [ "$("${CURL[@]}" "http://127.0.0.1:$p4/")" = "Hello, World!" ]
  [ "$("${CURL[@]}" -g "http://[::1]:$p6/")" = "Hello, World!" ]
  [ "$(ucurl "$sock" /)" = "Hello, World!" ]
  grep -q "listening on http://127.0.0.1:$p4, http://\[::1\]:$p6, unix:$sock" "$SERVER_LOG"
  run "$SPAWNING_BUILD_DIR/spawnctl" --port "$p4" status --json
  [ "$status" -eq 0 ]
  expect_eq 'str(d["listen"])' "['http://127.0.0.1:$p4', 'http://[::1]:$p6', 'unix:$sock']"
}

# serves_port_of_each PORT...: each address answers with its own SERVER_PORT
# (an HTTP/1.0 request without Host, as wsgiref.util.request_uri then uses it).
serves_port_of_each() {
  local p
  for p in "$@"; do
    run "$PY" "$RAWHTTP" "$p" --json 'GET / HTTP/1.0\r\n\r\n'
    [ "$status" -eq 0 ] || fail "no answer on $p: $output"
    [ "$(pyq 'json.loads(d["responses"][0]["body"])["SERVER_PORT"]' <<<"$output")" = "$p" ] ||
      fail "SERVER_PORT on $p: $output"
  done
}

@test "-b twice: SERVER_PORT is the port each request came in on (threads and green)" {
  local p1 p2 p3 p4
  p1=$(free_port)
  p2=$(free_port)
  SERVER_PORT="$p1"
  launch_server -b "127.0.0.1:$p1" -b "127.0.0.1:$p2" --processes 1 tests.apps.echo_environ:app
  wait_http "$p1"
  serves_port_of_each "$p1" "$p2" "$p1"
  stop_server
  p3=$(free_port)
  p4=$(free_port)
  SERVER_PORT="$p3"
  launch_server -b "127.0.0.1:$p3" -b "127.0.0.1:$p4" --processes 1 --threads 0 \
    tests.apps.echo_environ:app
  wait_http "$p3"
  serves_port_of_each "$p4" "$p3"
}

@test "unix socket peers: REMOTE_ADDR is empty, the proxy's X-Forwarded-For is believed" {
  local sock="$BATS_TEST_TMPDIR/app.sock"
  launch_server -b "unix:$sock" --processes 1 tests.apps.echo_environ:app
  wait_unix "$sock"
  run ucurl "$sock" /
  [ "$(pyq 'repr(d["REMOTE_ADDR"])' <<<"$output")" = "''" ]
  [ "$(pyq 'd["SERVER_PORT"]' <<<"$output")" = 80 ]
  run ucurl "$sock" / -H 'X-Forwarded-For: 203.0.113.9' -H 'X-Forwarded-Proto: https'
  [ "$(pyq 'd["REMOTE_ADDR"]' <<<"$output")" = 203.0.113.9 ]
  [ "$(pyq 'd["wsgi.url_scheme"]' <<<"$output")" = https ]
}

@test "fd://N: an inherited listening socket is served" {
  local port
  port=$(free_port)
  SERVER_PORT="$port"
  # A parent that binds, then execs spawning with the socket inherited.
  launch_server_via "$PY" -c '
import os, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
os.set_inheritable(s.fileno(), True)
os.execv(sys.argv[2], [sys.argv[2], "-b", "fd://%d" % s.fileno(), "--processes", "1",
                       "tests.apps.hello:app"])' "$port" "$SPAWNING"
  wait_http "$port"
  [ "$(get /)" = "Hello, World!" ]
  grep -q "listening on http://127.0.0.1:$port" "$SERVER_LOG"
}

@test "fd://N that is not open: exit 1 with one line" {
  run -1 "$SPAWNING" -b "fd://77" --admin-socket none tests.apps.hello:app
  [[ "$output" == *"fd://77"* ]] || fail "$output"
  [ "$(grep -c . <<<"$output")" -eq 1 ]
}

@test "systemd socket activation: sockets from systemd-socket-activate, sd_notify READY, RELOADING, STOPPING" {
  command -v systemd-socket-activate >/dev/null || skip "systemd-socket-activate missing"
  local port sock="$BATS_TEST_TMPDIR/sa.sock" notify="$BATS_TEST_TMPDIR/notify.sock"
  local notes="$BATS_TEST_TMPDIR/notes"
  port=$(free_port)
  SERVER_PORT="$port"
  "$PY" "$NOTIFY" "$notify" "$notes" &
  NOTIFY_PID=$!
  for i in $(seq 1 50); do [ -S "$notify" ] && break; sleep 0.1; done
  # --port and -b are ignored: systemd's sockets are the ones served.
  NOTIFY_SOCKET="$notify" launch_server_via systemd-socket-activate -E NOTIFY_SOCKET \
    -E SPAWNING_TEST_TAG -l "127.0.0.1:$port" -l "$sock" \
    "$SPAWNING" -b 127.0.0.1:1 --processes 1 --admin-socket none tests.apps.lifecycle_app:app
  wait_http "$port"
  [[ "$(ucurl "$sock" /pid)" =~ ^[0-9]+$ ]]
  for i in $(seq 1 50); do grep -q READY=1 "$notes" && break; sleep 0.1; done
  grep -q "^READY=1|MAINPID=$SERVER_PID|STATUS=serving" "$notes" || { cat "$notes"; false; }
  grep -q "(from systemd)" "$SERVER_LOG"
  local before
  before=$(get /pid)
  kill -HUP "$SERVER_PID"
  for i in $(seq 1 100); do [ "$(grep -c READY=1 "$notes")" -ge 2 ] && break; sleep 0.1; done
  grep -q "^RELOADING=1" "$notes"
  [ "$(grep -c READY=1 "$notes")" -ge 2 ]
  [ "$(get /pid)" != "$before" ]
  [ "$(ucurl "$sock" /pid)" = "$(get /pid)" ]
  kill -TERM "$SERVER_PID"
  wait_exit "$SERVER_PID" 10
  grep -q "^STOPPING=1" "$notes"
  # systemd's socket files belong to systemd, not to us: left in place.
  [ -S "$sock" ]
}

@test "a failed reload under systemd still ends with READY=1 and names the failure" {
  local notify="$BATS_TEST_TMPDIR/notify.sock" notes="$BATS_TEST_TMPDIR/notes"
  local app="$BATS_TEST_TMPDIR/app"
  mkdir -p "$app"
  printf 'def app(e, s):\n    s("200 OK", [])\n    return [b"v1"]\n' >"$app/flaky.py"
  "$PY" "$NOTIFY" "$notify" "$notes" &
  NOTIFY_PID=$!
  for i in $(seq 1 50); do [ -S "$notify" ] && break; sleep 0.1; done
  NOTIFY_SOCKET="$notify" start_server --processes 1 --pythonpath "$app" flaky:app
  echo 'raise ImportError("broken deploy")' >"$app/flaky.py"
  kill -HUP "$SERVER_PID"
  for i in $(seq 1 100); do grep -q "failed" "$notes" && break; sleep 0.1; done
  grep -q "^READY=1|STATUS=reload to generation 2 failed; generation 1 serving" "$notes" ||
    { cat "$notes"; false; }
  [ "$(get /)" = v1 ]
}

@test "reloads under load on TCP and UNIX sockets at once, with --reuse-port: nothing lost, sockets kept" {
  local sock="$BATS_TEST_TMPDIR/app.sock" p1 p2
  p1=$(free_port)
  p2=$(free_port)
  SERVER_PORT="$p1"
  launch_server -b "127.0.0.1:$p1" -b "127.0.0.1:$p2" -b "unix:$sock" --reuse-port \
    --processes 2 tests.apps.lifecycle_app:app
  wait_http "$p1"
  wait_ready 2
  local tcp_before unix_before
  tcp_before=$(ss -Hltne "( sport = :$p1 or sport = :$p2 )" | grep -o 'ino:[0-9]*' | sort)
  [ "$(wc -l <<<"$tcp_before")" -eq 4 ] # one per child slot and address
  unix_before=$(inode "$sock")
  local stop="$BATS_TEST_TMPDIR/stop"
  "$PY" "$LOAD" "$p2" "$stop" 2 / 30 >"$BATS_TEST_TMPDIR/tcp.out" &
  local tcp_load=$!
  "$PY" "$LOAD" "unix:$sock" "$stop" 2 / 30 >"$BATS_TEST_TMPDIR/unix.out" &
  local unix_load=$!
  sleep 0.5
  for i in $(seq 1 6); do kill -HUP "$SERVER_PID"; sleep 0.6; done
  sleep 0.5
  touch "$stop"
  wait "$tcp_load" "$unix_load"
  cat "$BATS_TEST_TMPDIR/tcp.out" "$BATS_TEST_TMPDIR/unix.out"
  grep -q "failed=0" "$BATS_TEST_TMPDIR/tcp.out"
  grep -q "failed=0" "$BATS_TEST_TMPDIR/unix.out"
  ! grep -q "^ok=0 " "$BATS_TEST_TMPDIR/unix.out"
  [ "$(ss -Hltne "( sport = :$p1 or sport = :$p2 )" | grep -o 'ino:[0-9]*' | sort)" = "$tcp_before" ]
  [ "$(inode "$sock")" = "$unix_before" ]
}

@test "green mode serves every bound socket" {
  local sock="$BATS_TEST_TMPDIR/app.sock"
  start_server -b "127.0.0.1:$(free_port)" -b "unix:$sock" --threads 0 --processes 1 \
    tests.apps.hello:app
  wait_unix "$sock"
  [ "$(ucurl "$sock" /)" = "Hello, World!" ]
  [ "$(get /)" = "Hello, World!" ]
}
