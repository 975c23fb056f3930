#!/usr/bin/env bats
# Regression tests for what the soak suite (make soak, tests/soak/soak.py)
# found or needs: /healthz turns 503 the moment a graceful stop is asked
# for (--shutdown-delay keeps serving meanwhile), and children whose
# controller died by SIGKILL let go of the port at once and are bounded by
# --graceful-timeout (what the controller would have allowed a draining
# child). Each test is short.

bats_require_minimum_version 1.5.0
load helpers

setup() {
  SPAWNCTL="$SPAWNING_BUILD_DIR/spawnctl"
}

teardown() {
  stop_server
  kill_all_tagged
}

healthz() {
  curl -s --noproxy '*' --max-time 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$STATUS_PORT/healthz"
}

# port_free PORT: a new server could bind PORT now.
port_free() {
  "$PY" -c 'import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)' "$1"
}

@test "SIGTERM with --shutdown-delay: /healthz 503 at once, the app keeps serving for the delay, then exit 0" {
  STATUS_PORT=$(free_port)
  start_server --processes 1 --status-port "$STATUS_PORT" --shutdown-delay 1.5 tests.apps.soak_app:app
  wait_ready 1
  [ "$(healthz)" = 200 ]
  kill -TERM "$SERVER_PID"
  sleep 0.3
  [ "$(healthz)" = 503 ] || fail "/healthz is not 503 during the shutdown delay"
  [ "$(curl -s --noproxy '*' --max-time 2 "http://127.0.0.1:$STATUS_PORT/healthz")" = stopping ]
  run get /
  [ "$status" -eq 0 ] || fail "the app stopped answering during the delay"
  [[ "$output" == "1 "* ]]
  wait_exit "$SERVER_PID" 6 || fail "still running 6 s after SIGTERM"
  [ "$EXIT_STATUS" = 0 ]
  grep -q "graceful stop in 1.5 s" "$SERVER_LOG"
  grep -q "shutdown delay over" "$SERVER_LOG"
}

@test "spawnctl stop: /healthz 503 before the sockets close; a reload during the delay is ignored" {
  STATUS_PORT=$(free_port)
  local admin="$BATS_TEST_TMPDIR/admin.sock"
  start_server --processes 1 --status-port "$STATUS_PORT" --admin-socket "$admin" --shutdown-delay 1.5 tests.apps.soak_app:app
  wait_ready 1
  run "$SPAWNCTL" --socket "$admin" stop
  [ "$status" -eq 0 ]
  [ "$(healthz)" = 503 ]
  kill -HUP "$SERVER_PID"
  run get /
  [ "$status" -eq 0 ]
  wait_exit "$SERVER_PID" 6 || fail "still running 6 s after spawnctl stop"
  ! grep -q "reloading" "$SERVER_LOG" || fail "a reload started during the shutdown delay"
}

@test "SIGINT cuts a shutdown delay short; without --shutdown-delay SIGTERM stops at once" {
  STATUS_PORT=$(free_port)
  start_server --processes 1 --status-port "$STATUS_PORT" --shutdown-delay 30 tests.apps.soak_app:app
  wait_ready 1
  kill -TERM "$SERVER_PID"
  sleep 0.2
  kill -INT "$SERVER_PID"
  wait_exit "$SERVER_PID" 3 || fail "SIGINT did not end the shutdown delay"
  start_server --processes 1 tests.apps.soak_app:app
  wait_ready 1
  kill -TERM "$SERVER_PID"
  wait_exit "$SERVER_PID" 3 || fail "SIGTERM without a delay took over 3 s"
  [ "$EXIT_STATUS" = 0 ]
}

@test "--shutdown-delay: a bad value is a one-line error, exit 2" {
  run "$SPAWNING" --shutdown-delay soon tests.apps.soak_app:app
  [ "$status" -eq 2 ]
  [[ "$output" == *"--shutdown-delay: invalid value 'soon'"* ]]
}

# ctl_killed_under_request THREADS: the controller is SIGKILLed while a
# 2 s request runs; the port must be free within a second (a new start
# can bind it) and the request still finishes with 200.
ctl_killed_under_request() {
  start_server --processes 1 --threads "$1" --graceful-timeout 10 tests.apps.soak_app:app
  wait_ready 1
  local out="$BATS_TEST_TMPDIR/slow.out" i
  curl -s --noproxy '*' --max-time 10 -o "$out" -w '%{http_code}' "$(url '/sleep?s=2')" >"$out.code" &
  local curl_pid=$!
  sleep 0.8 # past the --threads 1 heartbeat takeover (0.5 s)
  kill -KILL "$SERVER_PID"
  for ((i = 0; i < 20; i++)); do port_free "$SERVER_PORT" && break; sleep 0.05; done
  port_free "$SERVER_PORT" || fail "the port is still taken 1 s after the controller died"
  wait "$curl_pid"
  [ "$(cat "$out.code")" = 200 ] || fail "the request in flight did not finish: $(cat "$out.code")"
  for ((i = 0; i < 40; i++)); do [ -z "$(tagged_pids "$SERVER_TAG")" ] && break; sleep 0.1; done
  [ -z "$(tagged_pids "$SERVER_TAG")" ] || fail "children left after their request ended"
}

@test "controller SIGKILLed during a long request, --threads 1: the port is free within a second, the request finishes" {
  ctl_killed_under_request 1
  grep -q "listening sockets closed while a request runs" "$SERVER_LOG"
}

@test "controller SIGKILLed during a long request, --threads 4: the port is free within a second, the request finishes" {
  ctl_killed_under_request 4
}

@test "controller SIGKILLed: an orphan with a hung request exits after --graceful-timeout" {
  start_server --processes 1 --threads 4 --graceful-timeout 1 tests.apps.soak_app:app
  wait_ready 1
  curl -s --noproxy '*' --max-time 20 -o /dev/null "$(url '/hang?s=30')" &
  local curl_pid=$! i
  sleep 0.3
  kill -KILL "$SERVER_PID"
  for ((i = 0; i < 40; i++)); do [ -z "$(tagged_pids "$SERVER_TAG")" ] && break; sleep 0.1; done
  [ -z "$(tagged_pids "$SERVER_TAG")" ] || fail "the orphan still runs 4 s after its controller died"
  grep -q "the controller is gone and requests still run after 1 s" "$SERVER_LOG"
  wait "$curl_pid" || true
}
