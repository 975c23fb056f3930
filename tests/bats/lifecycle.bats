#!/usr/bin/env bats
# The controller's lifecycle: graceful reloads, broken deploys, code reload,
# memory/age/request limits, request timeouts, heartbeats, scaling.

load helpers

LOAD="$BATS_TEST_DIRNAME/load.py"

teardown() {
  stop_server
}

teardown_file() {
  kill_all_tagged
}

# children_of_generation: live child pids, sorted.
children() {
  child_pids | sort | tr '\n' ' '
}

@test "20 graceful reloads (SIGHUP) under continuous load lose no request" {
  start_server --processes 2 --threads 4 tests.apps.lifecycle_app:app
  local stop="$BATS_TEST_TMPDIR/stop"
  "$PY" "$LOAD" "$SERVER_PORT" "$stop" 3 / 60 >"$BATS_TEST_TMPDIR/load.out" &
  local load_pid=$!
  sleep 0.5
  for i in $(seq 1 20); do
    kill -HUP "$SERVER_PID"
    sleep 0.4
  done
  # every reload completes before the next is counted
  for i in $(seq 1 50); do
    [ "$(grep -c 'reload complete' "$SERVER_LOG")" -ge 20 ] && break
    sleep 0.1
  done
  sleep 0.5
  touch "$stop"
  wait "$load_pid"
  cat "$BATS_TEST_TMPDIR/load.out"
  grep -q "failed=0" "$BATS_TEST_TMPDIR/load.out"
  ok=$(sed -n 's/ok=\([0-9]*\).*/\1/p' "$BATS_TEST_TMPDIR/load.out")
  [ "$ok" -gt 500 ]
  # reloads that arrive while one is starting are refused, never stacked
  [ "$(grep -c 'reload complete' "$SERVER_LOG")" -ge 10 ]
  [ "$(child_pids | wc -l)" -eq 2 ]
}

@test "a broken deploy leaves the old code serving and reports the traceback" {
  local app="$BATS_TEST_TMPDIR/app"
  mkdir -p "$app"
  printf 'def app(e, s):\n    s("200 OK", [("Content-Type", "text/plain")])\n    return [b"old\\n"]\n' >"$app/deployed.py"
  start_server --processes 2 --chdir "$app" deployed:app
  [ "$(get /)" = old ]
  local before
  before=$(children)
  printf 'import nosuchdependency\n' >"$app/deployed.py"
  rm -rf "$app/__pycache__"
  kill -HUP "$SERVER_PID"
  for i in $(seq 1 50); do
    grep -q "reload failed" "$SERVER_LOG" && break
    sleep 0.1
  done
  grep -q "reload failed; the running generation keeps serving" "$SERVER_LOG"
  grep -q "No module named 'nosuchdependency'" "$SERVER_LOG"
  [ "$(get /)" = old ]
  sleep 0.5
  [ "$(children)" = "$before" ]
  proc_alive "$SERVER_PID"
}

@test "--reload=dev: an edited module is live within 2 s" {
  local app="$BATS_TEST_TMPDIR/dev"
  mkdir -p "$app"
  printf 'def app(e, s):\n    s("200 OK", [("Content-Type", "text/plain")])\n    return [b"one\\n"]\n' >"$app/devmod.py"
  start_server --processes 1 --reload=dev --chdir "$app" devmod:app
  [ "$(get /)" = one ]
  sed -i 's/one/two/' "$app/devmod.py"
  local t0=$SECONDS i out
  for i in $(seq 1 40); do
    out=$(get /)
    [ "$out" = two ] && break
    sleep 0.05
  done
  [ "$out" = two ]
  [ $((SECONDS - t0)) -le 2 ]
}

@test "--reload=dev: -w adds a file to watch" {
  local extra="$BATS_TEST_TMPDIR/settings.ini"
  echo a=1 >"$extra"
  start_server --processes 1 --reload=dev -w "$extra" tests.apps.lifecycle_app:app
  local before
  before=$(children)
  echo a=2 >>"$extra"
  for i in $(seq 1 30); do
    grep -q "reload complete" "$SERVER_LOG" && break
    sleep 0.1
  done
  grep -q "source change: $extra" "$SERVER_LOG"
  [ "$(children)" != "$before" ]
}

@test "--max-memory: a leaking app is recycled before it passes the limit by much, no request fails" {
  start_server --processes 1 --threads 2 --max-memory 120 tests.apps.lifecycle_app:app
  local first
  first=$(get /pid)
  local peak=0 i rss pid
  for i in $(seq 1 40); do
    run get "/leak?mb=4"
    [ "$status" -eq 0 ]
    [[ "$output" == kept* ]]
    for pid in $(child_pids); do
      rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
      [ "${rss:-0}" -gt "$peak" ] && peak=$rss
    done
    sleep 0.1
  done
  echo "peak RSS ${peak} kB"
  grep -q "replacing child $first (--max-memory" "$SERVER_LOG"
  [ "$(get /pid)" != "$first" ]
  [ "$peak" -lt $((200 * 1024)) ]
}

@test "--max-age: children are replaced gracefully, one at a time" {
  start_server --processes 2 --max-age 2 tests.apps.lifecycle_app:app
  local before
  before=$(children)
  sleep 6
  [ "$(grep -c 'replacing child .* (--max-age)' "$SERVER_LOG")" -ge 2 ]
  [ "$(children)" != "$before" ]
  # one at a time: never two successors starting together
  ! grep -A1 'replacing child .* (--max-age)' "$SERVER_LOG" | grep -q -- '--max-age).*\n.*replacing'
  [ "$(get /pid)" -gt 0 ]
}

@test "--max-requests with jitter: a child is replaced after its share, no request fails" {
  start_server --processes 1 --max-requests 50 --max-requests-jitter 10 tests.apps.lifecycle_app:app
  local first
  first=$(get /pid)
  local stop="$BATS_TEST_TMPDIR/stop"
  ( sleep 3; touch "$stop" ) &
  run "$PY" "$LOAD" "$SERVER_PORT" "$stop" 1 / 10
  echo "$output"
  [[ "$output" == *"failed=0"* ]]
  grep -q "replacing child $first (--max-requests)" "$SERVER_LOG"
  n=$(grep -o 'served [0-9]* requests' "$SERVER_LOG" | head -1 | awk '{print $2}')
  [ "$n" -ge 50 ] && [ "$n" -le 60 ]
}

@test "--timeout: a request running too long gets its child replaced; the log names it" {
  start_server --processes 1 --timeout 1 --deadman-timeout 2 tests.apps.lifecycle_app:app
  local first
  first=$(get /pid)
  http -o /dev/null "$(url '/sleep?s=6')" &
  local slow=$!
  sleep 3.5
  grep -q "request GET /sleep?s=6 has run for" "$SERVER_LOG"
  [ "$(get /pid)" != "$first" ]
  wait "$slow" || true
}

@test "a child that stops answering heartbeats is killed and replaced" {
  start_server --processes 1 --deadman-timeout 2 tests.apps.lifecycle_app:app
  local first
  first=$(get /pid)
  kill -STOP "$first"
  for i in $(seq 1 60); do
    grep -q "child $first has not answered heartbeats" "$SERVER_LOG" && break
    sleep 0.1
  done
  grep -q "child $first has not answered heartbeats" "$SERVER_LOG"
  for i in $(seq 1 50); do [ "$(ready_count)" -ge 2 ] && break; sleep 0.1; done
  [ "$(get /pid)" != "$first" ]
}

@test "SIGTTIN adds a child, SIGTTOU removes one (gracefully)" {
  start_server --processes 2 tests.apps.lifecycle_app:app
  wait_ready 2
  kill -TTIN "$SERVER_PID"
  for i in $(seq 1 50); do [ "$(child_pids | wc -l)" -eq 3 ] && break; sleep 0.1; done
  [ "$(child_pids | wc -l)" -eq 3 ]
  # one signal at a time: two identical pending signals are delivered once
  kill -TTOU "$SERVER_PID"
  for i in $(seq 1 50); do [ "$(child_pids | wc -l)" -eq 2 ] && break; sleep 0.1; done
  [ "$(child_pids | wc -l)" -eq 2 ]
  kill -TTOU "$SERVER_PID"
  for i in $(seq 1 100); do [ "$(child_pids | wc -l)" -eq 1 ] && break; sleep 0.1; done
  [ "$(child_pids | wc -l)" -eq 1 ]
  grep -q "stopping child .* (scaled down)" "$SERVER_LOG"
  [ "$(get /pid)" -gt 0 ]
}

@test "-d --pidfile --stderr: detaches once ready, the pidfile names the controller, TERM removes it" {
  local pidfile="$BATS_TEST_TMPDIR/spawning.pid" log="$BATS_TEST_TMPDIR/error.log" port
  port=$(free_port)
  run timeout 20 "$SPAWNING" --port "$port" --processes 1 -d --pidfile "$pidfile" \
    --stderr "$log" tests.apps.lifecycle_app:app
  [ "$status" -eq 0 ]
  local pid
  pid=$(cat "$pidfile")
  proc_alive "$pid"
  [ "$(awk '{print $7}' "/proc/$pid/stat")" = 0 ]   # no controlling terminal
  run curl -s --max-time 5 "http://127.0.0.1:$port/pid"
  [ "$output" -gt 0 ]
  grep -q "child [0-9]* ready" "$log"
  kill -TERM "$pid"
  for i in $(seq 1 50); do proc_alive "$pid" || break; sleep 0.1; done
  ! proc_alive "$pid"
  [ ! -e "$pidfile" ]
}

@test "-d with an app that cannot start: the command exits 1 and prints the traceback" {
  run timeout 20 "$SPAWNING" --port "$(free_port)" --processes 1 -d \
    --stderr "$BATS_TEST_TMPDIR/error.log" nosuchmodule:app
  [ "$status" -eq 1 ]
  [[ "$output" == *"No module named 'nosuchmodule'"* ]]
}

@test "--chuid: bound as root, the children serve as the given user" {
  [ "$(id -u)" -eq 0 ] || skip "needs root"
  start_server --processes 1 --chuid nobody:nogroup tests.apps.lifecycle_app:app
  local child
  child=$(get /pid)
  [ "$(awk '/^Uid:/ {print $2}' "/proc/$child/status")" = "$(id -u nobody)" ]
  [ "$(awk '/^Uid:/ {print $2}' "/proc/$SERVER_PID/status")" = "$(id -u nobody)" ]
}

@test "--chuid: the admin socket and a status port below 1024 are bound as root; a stale root socket is replaced" {
  [ "$(id -u)" -eq 0 ] || skip "needs root"
  local port status_port sock
  port=$(free_port)
  sock="/tmp/spawning-$port.sock"
  # What a root server killed with SIGKILL leaves: a socket file nobody accepts on.
  "$PY" -c 'import os, socket, sys; os.umask(0o077); socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$sock"
  status_port=$("$PY" -c '
import socket
for p in range(1023, 900, -1):
    try:
        socket.socket().bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass')
  XDG_RUNTIME_DIR='' start_server_port "$port" --host 127.0.0.1 --port "$port" --processes 1 \
    --chuid nobody:nogroup --status-port "$status_port" tests.apps.lifecycle_app:app
  [ "$(stat -c %U:%a "$sock")" = "nobody:600" ]
  run "$SPAWNING_BUILD_DIR/spawnctl" --socket "$sock" status
  [ "$status" -eq 0 ] || fail "$output"
  [[ "$output" == *"listen      http://127.0.0.1:$port"* ]] || fail "$output"
  [ "$("${CURL[@]}" "http://127.0.0.1:$status_port/healthz")" = "ok" ]
  stop_server
  [ ! -e "$sock" ]
}

@test "SIGUSR1 reopens --stderr in the controller and the children (log rotation)" {
  local log="$BATS_TEST_TMPDIR/error.log"
  start_server --processes 1 --stderr "$log" tests.apps.lifecycle_app:app
  mv "$log" "$log.1"
  kill -USR1 "$SERVER_PID"
  for i in $(seq 1 30); do [ -e "$log" ] && grep -q "log files reopened" "$log" && break; sleep 0.1; done
  grep -q "log files reopened" "$log"
  sleep 0.3
  run get "/leak?mb=notanumber"       # the app raises: a traceback from the child
  for i in $(seq 1 30); do grep -q "ValueError" "$log" && break; sleep 0.1; done
  grep -q "ValueError" "$log"
  ! grep -q "ValueError" "$log.1"
}

# The inode of each listening socket on the server port, sorted.
listening_inodes() {
  ss -Hltne "sport = :$SERVER_PORT" | grep -o 'ino:[0-9]*' | sort
}

@test "--reuse-port: each child has its own socket, load reaches both, reloads lose nothing" {
  start_server --processes 2 --reuse-port tests.apps.lifecycle_app:app
  wait_ready 2
  [ "$(ss -Hltn "sport = :$SERVER_PORT" | wc -l)" -eq 2 ]
  local before
  before=$(listening_inodes)
  local pids
  pids=$(for i in $(seq 1 60); do curl -s --max-time 5 "$(url /pid)"; done | sort -u | wc -l)
  [ "$pids" -eq 2 ]
  local stop="$BATS_TEST_TMPDIR/stop"
  "$PY" "$LOAD" "$SERVER_PORT" "$stop" 2 / 30 >"$BATS_TEST_TMPDIR/load.out" &
  local load_pid=$!
  sleep 0.5
  for i in $(seq 1 8); do kill -HUP "$SERVER_PID"; sleep 0.6; done
  sleep 0.5
  touch "$stop"
  wait "$load_pid"
  cat "$BATS_TEST_TMPDIR/load.out"
  grep -q "failed=0" "$BATS_TEST_TMPDIR/load.out"
  # The successors took over the same sockets: none was closed (closing a
  # listening socket resets what is queued on it).
  [ "$(listening_inodes)" = "$before" ]
}

@test "--reuse-port: a child killed -9 leaves its socket; TTIN adds a socket, TTOU retires one" {
  start_server --processes 2 --reuse-port tests.apps.lifecycle_app:app
  wait_ready 2
  local before
  before=$(listening_inodes)
  kill -9 "$(get /pid)"
  for i in $(seq 1 100); do [ "$(ready_count)" -ge 3 ] && break; sleep 0.1; done
  [ "$(ready_count)" -ge 3 ]
  [ "$(listening_inodes)" = "$before" ]
  kill -TTIN "$SERVER_PID"
  for i in $(seq 1 100); do [ "$(ready_count)" -ge 4 ] && break; sleep 0.1; done
  [ "$(child_pids | wc -l)" -eq 3 ]
  [ "$(listening_inodes | wc -l)" -eq 3 ]
  kill -TTOU "$SERVER_PID"
  for i in $(seq 1 50); do [ "$(listening_inodes | wc -l)" -eq 2 ] && break; sleep 0.1; done
  [ "$(listening_inodes)" = "$before" ]
  [ "$(get /)" != "" ]
}

@test "--threads 1 fast path: a request longer than --deadman-timeout keeps its child" {
  start_server --processes 1 --threads 1 --deadman-timeout 2 tests.apps.lifecycle_app:app
  local first
  first=$(get /pid)
  run http "$(url '/sleep?s=4')"
  [ "$output" = slept ]
  [ "$(get /pid)" = "$first" ]
  ! grep -q "has not answered heartbeats" "$SERVER_LOG"
}

@test "--threads 1 fast path: SIGTERM during a long request lets it finish, then exits 0" {
  start_server --processes 1 --threads 1 tests.apps.lifecycle_app:app
  local out="$BATS_TEST_TMPDIR/body"
  http -o "$out" "$(url '/sleep?s=2')" &
  local slow=$!
  sleep 0.7
  kill -TERM "$SERVER_PID"
  wait "$slow"
  [ "$(cat "$out")" = slept ]
  wait_exit "$SERVER_PID" 10
  [ "$EXIT_STATUS" = 0 ]
}

@test "--stdout: what the app prints goes to the file" {
  local out="$BATS_TEST_TMPDIR/stdout.log"
  start_server --processes 1 --stdout "$out" tests.apps.lifecycle_app:app
  [ "$(get /print)" = printed ]
  for i in $(seq 1 20); do grep -q "printed by the app" "$out" && break; sleep 0.1; done
  grep -q "printed by the app" "$out"
  ! grep -q "printed by the app" "$SERVER_LOG"
}

@test "--log-level: warning hides the INFO lines, debug shows DEBUG ones" {
  start_server --processes 1 --log-level warning tests.apps.lifecycle_app:app
  ! grep -q "\[INFO\]" "$SERVER_LOG"
  stop_server
  start_server --processes 1 --log-level debug tests.apps.lifecycle_app:app
  grep -q "\[DEBUG\] started child" "$SERVER_LOG"
}
