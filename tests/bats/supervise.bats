#!/usr/bin/env bats
# Supervision and signals: child count, restart after kill -9, graceful
# SIGTERM drain, --graceful-timeout, SIGINT/SIGQUIT, nothing left behind.

bats_require_minimum_version 1.5.0
load helpers

teardown() {
  stop_server
}

# assert_no_tagged_left: no process started by this server remains.
assert_no_tagged_left() {
  local left i
  for i in $(seq 20); do
    left="$(tagged_pids "$SERVER_TAG")"
    [ -z "$left" ] && return 0
    sleep 0.1
  done
  fail "processes left behind: $left ($(for p in $left; do tr '\0' ' ' </proc/$p/cmdline; echo; done))"
}

@test "--processes 2 starts two spawning_child processes" {
  start_server --processes 2 tests.apps.hello:app
  wait_ready 2
  run child_pids
  echo "children: $output"
  [ "${#lines[@]}" -eq 2 ]
  for p in "${lines[@]}"; do
    [ "$(cat /proc/$p/comm)" = spawning_child ] || [[ "$(tr '\0' ' ' </proc/$p/cmdline)" == *spawning_child* ]]
    grep -qE "\[INFO\] child $p ready" "$SERVER_LOG" || fail "no ready line for $p"
  done
}

@test "--processes 3 gives three children, and every request is answered by one of them" {
  start_server --processes 3 --threads 1 tests.apps.echo_environ:app
  wait_ready 3
  [ "$(child_pids | wc -l)" -eq 3 ]
  # every request is answered by one of the children
  local kids; kids="$(child_pids | sort | tr '\n' ' ')"
  for i in $(seq 6); do
    run get /
    local pid; pid="$(pyq 'd["_pid"]' <<<"$output")"
    [[ " $kids" == *" $pid "* ]] || fail "pid $pid not a child ($kids)"
  done
}

@test "a child killed with SIGKILL is replaced within 2 s, requests keep succeeding" {
  start_server --processes 2 tests.apps.hello:app
  wait_ready 2
  local before victim; before="$(child_pids | sort)"
  victim="$(head -1 <<<"$before")"
  kill -KILL "$victim"
  local i after
  for i in $(seq 40); do
    after="$(child_pids | sort)"
    if [ "$(wc -l <<<"$after")" -eq 2 ] && ! grep -qx "$victim" <<<"$after"; then break; fi
    sleep 0.05
  done
  echo "before: $before / after: $after"
  [ "$(wc -l <<<"$after")" -eq 2 ]
  if grep -qx "$victim" <<<"$after"; then fail "victim $victim still listed"; fi
  local new; new="$(comm -13 <(echo "$before") <(echo "$after"))"
  [ -n "$new" ]
  # the new child becomes ready and everything is served
  for i in $(seq 40); do grep -qE "\[INFO\] child $new ready" "$SERVER_LOG" && break; sleep 0.05; done
  grep -qE "\[INFO\] child $new ready" "$SERVER_LOG" || fail "new child $new never ready"
  for i in $(seq 20); do
    run get /
    [ "$output" = "Hello, World!" ] || fail "request $i: $output"
  done
}

@test "the only child killed: replaced, and no request is refused" {
  start_server --processes 1 tests.apps.hello:app
  wait_ready 1
  local victim; victim="$(child_pids)"
  kill -KILL "$victim"
  # requests made right away wait for the new child instead of failing
  run get / --max-time 5
  [ "$output" = "Hello, World!" ]
  local new; new="$(child_pids)"
  [ -n "$new" ] && [ "$new" != "$victim" ]
}

@test "children killed repeatedly are still replaced (back-off stays reasonable)" {
  start_server --processes 1 tests.apps.hello:app
  wait_ready 1
  local round victim i
  for round in 1 2 3; do
    victim="$(child_pids)"
    kill -KILL "$victim"
    for i in $(seq 60); do
      [ -n "$(child_pids)" ] && [ "$(child_pids)" != "$victim" ] && break
      sleep 0.05
    done
    run get / --max-time 5
    [ "$output" = "Hello, World!" ] || fail "round $round: $output"
  done
}

@test "SIGTERM with no traffic: controller exits 0 promptly, no child left" {
  start_server --processes 2 tests.apps.hello:app
  wait_ready 2
  kill -TERM "$SERVER_PID"
  wait_exit "$SERVER_PID" 5 || fail "controller still running 5 s after SIGTERM"
  [ "$EXIT_STATUS" = 0 ] || fail "exit status $EXIT_STATUS"
  assert_no_tagged_left
}

@test "SIGTERM drains an in-flight request: it completes with 200, exit 0" {
  start_server --processes 1 tests.apps.slow:app
  local started="$BATS_TEST_TMPDIR/started"
  get "/?s=2&started=$started" -o "$BATS_TEST_TMPDIR/body" -w '%{http_code}' \
    >"$BATS_TEST_TMPDIR/code" 2>"$BATS_TEST_TMPDIR/curl.err" &
  local curl_pid=$!
  for i in $(seq 50); do [ -s "$started" ] && break; sleep 0.05; done
  [ -s "$started" ] || fail "slow request never started"
  kill -TERM "$SERVER_PID"
  local t0; t0=$(date +%s%N)
  wait "$curl_pid" || true
  echo "curl: $(cat "$BATS_TEST_TMPDIR/code") $(cat "$BATS_TEST_TMPDIR/body") $(cat "$BATS_TEST_TMPDIR/curl.err")"
  [ "$(cat "$BATS_TEST_TMPDIR/code")" = 200 ]
  [ "$(cat "$BATS_TEST_TMPDIR/body")" = "slept 2" ]
  wait_exit "$SERVER_PID" 10 || fail "controller still running"
  [ "$EXIT_STATUS" = 0 ] || fail "exit status $EXIT_STATUS"
  assert_no_tagged_left
}

@test "after SIGTERM no new request is served" {
  start_server --processes 1 tests.apps.slow:app
  local started="$BATS_TEST_TMPDIR/started"
  get "/?s=2&started=$started" -o /dev/null 2>/dev/null &
  local curl_pid=$!
  for i in $(seq 50); do [ -s "$started" ] && break; sleep 0.05; done
  kill -TERM "$SERVER_PID"
  sleep 0.3
  # the drain is still going on (the slow request); a new request must not
  # be answered with a 200
  run get /?s=0 --max-time 1 -o /dev/null -w '%{http_code}'
  echo "new request during drain: status $status code $output"
  [ "$output" != 200 ]
  wait "$curl_pid" || true
  wait_exit "$SERVER_PID" 10 || fail "controller still running"
}

@test "--graceful-timeout bounds the drain" {
  start_server --processes 1 --graceful-timeout 1 tests.apps.slow:app
  local started="$BATS_TEST_TMPDIR/started"
  get "/?s=8&started=$started" -o /dev/null 2>/dev/null &
  local curl_pid=$!
  for i in $(seq 50); do [ -s "$started" ] && break; sleep 0.05; done
  [ -s "$started" ] || fail "slow request never started"
  local t0 t1; t0=$(date +%s%N)
  kill -TERM "$SERVER_PID"
  wait_exit "$SERVER_PID" 6 || fail "controller still running 6 s after SIGTERM with --graceful-timeout 1"
  t1=$(date +%s%N)
  echo "exit after $(( (t1 - t0) / 1000000 )) ms, status $EXIT_STATUS"
  [ $(( (t1 - t0) / 1000000 )) -lt 4000 ]
  kill "$curl_pid" 2>/dev/null || true
  assert_no_tagged_left
}

@test "SIGINT stops at once, even with a request in flight; children gone" {
  start_server --processes 2 tests.apps.slow:app
  wait_ready 2
  local started="$BATS_TEST_TMPDIR/started"
  get "/?s=8&started=$started" -o /dev/null 2>/dev/null &
  local curl_pid=$!
  for i in $(seq 50); do [ -s "$started" ] && break; sleep 0.05; done
  kill -INT "$SERVER_PID"
  wait_exit "$SERVER_PID" 2 || fail "controller still running 2 s after SIGINT"
  kill "$curl_pid" 2>/dev/null || true
  assert_no_tagged_left
}

@test "SIGQUIT stops at once; children gone" {
  start_server --processes 2 tests.apps.slow:app
  wait_ready 2
  kill -QUIT "$SERVER_PID"
  wait_exit "$SERVER_PID" 2 || fail "controller still running 2 s after SIGQUIT"
  assert_no_tagged_left
}

@test "children exit when the controller is killed with SIGKILL" {
  start_server --processes 2 tests.apps.hello:app
  wait_ready 2
  kill -KILL "$SERVER_PID"
  wait_exit "$SERVER_PID" 2
  # orphaned children must notice (control socket closed) and go away
  local left i
  for i in $(seq 60); do
    left="$(tagged_pids "$SERVER_TAG")"
    [ -z "$left" ] && break
    sleep 0.1
  done
  [ -z "$left" ] || fail "orphans left 6 s after the controller died: $left"
}

@test "the controller itself is not a Python process" {
  start_server --processes 1 tests.apps.hello:app
  if grep -q libpython /proc/"$SERVER_PID"/maps; then fail "the controller maps libpython"; fi
}
