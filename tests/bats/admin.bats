#!/usr/bin/env bats
# spawnctl over the admin socket, and the status service.

load helpers

SPAWNCTL="$SPAWNING_BUILD_DIR/spawnctl"

setup() {
  ADMIN="$BATS_TEST_TMPDIR/admin.sock"
  STATUS_PORT=$(free_port)
  start_server --processes 2 --admin-socket "$ADMIN" --status-port "$STATUS_PORT" \
    tests.apps.lifecycle_app:app
  wait_ready 2
}

teardown() {
  stop_server
}

teardown_file() {
  kill_all_tagged
}

ctl() {
  "$SPAWNCTL" --socket "$ADMIN" "$@"
}

live_children() {
  child_pids | wc -l
}

@test "the admin socket is mode 0600 and owned by the controller's user" {
  [ -S "$ADMIN" ]
  [ "$(stat -c %a "$ADMIN")" = 600 ]
  [ "$(stat -c %u "$ADMIN")" = "$(id -u)" ]
}

@test "spawnctl status: a readable table with the controller and every child" {
  run ctl status
  [ "$status" -eq 0 ]
  echo "$output"
  [[ "$output" == *"$SERVER_PID"* ]]
  for pid in $(child_pids); do
    [[ "$output" == *"$pid"* ]]
  done
  [[ "$output" == *"127.0.0.1:$SERVER_PORT"* ]]
}

@test "spawnctl status: why connections closed, those reasons that happened" {
  run ctl status
  [[ "$output" != *"finished"* && "$output" != *"malformed"* ]] || fail "$output"
  get /pid -H 'Connection: close' >/dev/null
  get /pid -H 'Connection: close' >/dev/null
  "$PY" "$RAWHTTP" "$SERVER_PORT" 'GET / HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n' >/dev/null || true
  # The children's counts reach the controller with their next report.
  local line
  for _ in $(seq 1 50); do
    run ctl status
    line=$(grep '^closed  ' <<<"$output")
    [[ "$line" == *"finished 2"* && "$line" == *"malformed 1"* ]] && return 0
    sleep 0.1
  done
  fail "$output"
}

@test "spawnctl status --json: the original Spawning's keys and ours" {
  for i in $(seq 1 10); do get /pid >/dev/null; done
  sleep 1.2   # one heartbeat carries the counters
  run ctl status --json
  [ "$status" -eq 0 ]
  for key in pid started_at now uptime active_children_count killed_children_count \
    configured_children_count concurrent_requests config children requests \
    requests_per_second responses_5xx bytes_sent reloads generation; do
    [ "$(pyq "\"$key\" in d" <<<"$output")" = true ] || { echo "missing $key"; return 1; }
  done
  [ "$(pyq 'd["pid"]' <<<"$output")" = "$SERVER_PID" ]
  [ "$(pyq 'd["active_children_count"]' <<<"$output")" = 2 ]
  [ "$(pyq 'sorted(c["state"] for c in d["children"].values())' <<<"$output")" = '["ready", "ready"]' ]
  [ "$(pyq 'sorted(set(c.keys()) >= {"pid","active","uptime","forked_at","concurrent_requests","generation","state","requests","active_connections","rss_bytes","last_heartbeat"} for c in d["children"].values())' <<<"$output")" = '[true, true]' ]
  [ "$(pyq 'd["requests"] >= 10' <<<"$output")" = true ]
  [ "$(pyq 'd["bytes_sent"] > 0' <<<"$output")" = true ]
}

@test "spawnctl reload: a new generation replaces the old one" {
  local before
  before=$(child_pids | sort | tr '\n' ' ')
  run ctl reload
  [ "$status" -eq 0 ]
  for i in $(seq 1 50); do grep -q "reload complete" "$SERVER_LOG" && break; sleep 0.1; done
  grep -q "reloading (spawnctl reload)" "$SERVER_LOG"
  sleep 0.5
  [ "$(child_pids | sort | tr '\n' ' ')" != "$before" ]
  run ctl status --json
  [ "$(pyq 'd["generation"], d["reloads"]["count"], d["reloads"]["last_reason"]' <<<"$output")" = '[2, 1, "spawnctl reload"]' ]
}

@test "spawnctl scale N, +N, -N" {
  run ctl scale 3
  [ "$status" -eq 0 ]
  for i in $(seq 1 50); do [ "$(live_children)" -eq 3 ] && break; sleep 0.1; done
  [ "$(live_children)" -eq 3 ]
  run ctl scale +1
  for i in $(seq 1 50); do [ "$(live_children)" -eq 4 ] && break; sleep 0.1; done
  [ "$(live_children)" -eq 4 ]
  run ctl scale -3
  [ "$status" -eq 0 ]
  for i in $(seq 1 80); do [ "$(live_children)" -eq 1 ] && break; sleep 0.1; done
  [ "$(live_children)" -eq 1 ]
  run ctl status --json
  [ "$(pyq 'd["configured_children_count"]' <<<"$output")" = 1 ]
}

@test "spawnctl scale refuses nonsense: exit 1 with the reason" {
  run ctl scale 0
  [ "$status" -eq 1 ]
  [[ "$output" == *"scale"* ]]
  run ctl scale -5
  [ "$status" -eq 1 ]
}

@test "spawnctl stop: graceful, exit 0, the socket goes away" {
  run ctl stop
  [ "$status" -eq 0 ]
  wait_exit "$SERVER_PID" 15
  [ "$EXIT_STATUS" = 0 ]
  [ ! -e "$ADMIN" ]
}

@test "spawnctl stop --now: immediate" {
  http -o /dev/null "$(url '/sleep?s=5')" &
  local slow=$!
  sleep 0.5
  run ctl stop --now
  [ "$status" -eq 0 ]
  wait_exit "$SERVER_PID" 5
  wait "$slow" || true
}

@test "spawnctl reopen-logs" {
  run ctl reopen-logs
  [ "$status" -eq 0 ]
  for i in $(seq 1 20); do grep -q "log files reopened" "$SERVER_LOG" && break; sleep 0.1; done
  grep -q "log files reopened" "$SERVER_LOG"
}

@test "spawnctl: unreachable controller is exit 1 with one line; usage errors are exit 2" {
  run "$SPAWNCTL" --socket "$BATS_TEST_TMPDIR/nothing.sock" status
  [ "$status" -eq 1 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ "$output" == *"cannot reach the controller"* ]]
  run ctl
  [ "$status" -eq 2 ]
  run ctl frobnicate
  [ "$status" -eq 2 ]
  run ctl scale
  [ "$status" -eq 2 ]
  run ctl status --yaml
  [ "$status" -eq 2 ]
  run "$SPAWNCTL" --help
  [ "$status" -eq 0 ]
  [[ "$output" == *"reopen-logs"* ]]
}

@test "another user is refused (socket mode, then SO_PEERCRED)" {
  [ "$(id -u)" -eq 0 ] || skip "needs root to become another user"
  # a socket in a directory the other user can reach
  local dir
  dir=$(mktemp -d /tmp/spawning-admin-test.XXXXXX)
  chmod 755 "$dir"
  stop_server
  ADMIN="$dir/admin.sock"
  start_server --processes 1 --admin-socket "$ADMIN" tests.apps.lifecycle_app:app
  run setpriv --reuid=nobody --regid=nogroup --clear-groups "$SPAWNCTL" --socket "$ADMIN" status
  [ "$status" -eq 1 ]
  [[ "$output" == *"ermission denied"* ]]
  # even with the file mode opened up, the controller checks the peer's uid
  chmod 666 "$ADMIN"
  run setpriv --reuid=nobody --regid=nogroup --clear-groups "$SPAWNCTL" --socket "$ADMIN" status
  [ "$status" -eq 1 ]
  [[ "$output" == *"permission denied"* ]]
  stop_server
  rm -rf "$dir"
}

@test "status service: /status is an auto-refreshing HTML page without external assets" {
  run curl -s --max-time 5 "http://127.0.0.1:$STATUS_PORT/status"
  [ "$status" -eq 0 ]
  [[ "$output" == *"<html"* ]]
  [[ "$output" == *'http-equiv="refresh"'* ]]
  [[ "$output" == *"$SERVER_PID"* ]]
  ! grep -qiE '(src|href)="(https?:)?//' <<<"$output"
  [ "$(curl -s -o /dev/null -w '%{content_type}' "http://127.0.0.1:$STATUS_PORT/status")" = "text/html; charset=utf-8" ]
}

@test "status service: /status.json, /healthz, 404 for the rest" {
  run curl -s --max-time 5 "http://127.0.0.1:$STATUS_PORT/status.json"
  [ "$(pyq 'd["pid"]' <<<"$output")" = "$SERVER_PID" ]
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$STATUS_PORT/healthz")" = 200 ]
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$STATUS_PORT/")" = 404 ]
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$STATUS_PORT/status/x")" = 404 ]
  [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$STATUS_PORT/status")" = 405 ]
}

@test "status service: /healthz is 503 until a child is ready" {
  stop_server
  local port sport
  port=$(free_port)
  sport=$(free_port)
  launch_server --port "$port" --processes 1 --admin-socket none --status-port "$sport" tests.apps.slow_import:app
  local code=000 i
  for i in $(seq 1 20); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$sport/healthz") && [ "$code" != 000 ] && break
    sleep 0.1
  done
  [ "$code" = 503 ]
  for i in $(seq 1 80); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$sport/healthz")
    [ "$code" = 200 ] && break
    sleep 0.1
  done
  [ "$code" = 200 ]
}

@test "the status service refuses the serving port (exit 2)" {
  local port
  port=$(free_port)
  run "$SPAWNING" --port "$port" --status-port "$port" tests.apps.hello:app
  [ "$status" -eq 2 ]
  [[ "$output" == *"--status-port"* ]]
}

@test "--status-host: the status service listens on the given address only" {
  stop_server
  local port sport
  port=$(free_port)
  sport=$(free_port)
  launch_server --port "$port" --processes 1 --admin-socket none --status-port "$sport" \
    --status-host 127.0.0.2 tests.apps.lifecycle_app:app
  local code=000 i
  for i in $(seq 1 50); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.2:$sport/healthz") && [ "$code" = 200 ] && break
    sleep 0.1
  done
  [ "$code" = 200 ]
  run curl -s --max-time 2 -o /dev/null "http://127.0.0.1:$sport/healthz"
  [ "$status" -ne 0 ]
}
