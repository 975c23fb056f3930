#!/usr/bin/env bats
# Misbehaving apps: 500 + traceback in the log, the process keeps serving;
# CR/LF in headers refused; exc_info semantics; import failures.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
  start_file_server --processes 1 --threads 2 tests.apps.errors:app
}

teardown() {
  stop_own_server
}

teardown_file() {
  stop_file_server
}

r() {
  pyq "$1" <<<"$output"
}

# request builders: print rawhttp.py escape strings (no real CR/LF, so
# "$(GET /x)" loses nothing)
GET() { printf 'GET %s HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' "$1"; }

# wait_log TEXT: wait up to 3 s for TEXT (fixed string) in the log.
wait_log() {
  local i
  for ((i = 0; i < 30; i++)); do
    grep -qF -- "$1" "$SERVER_LOG" && return 0
    sleep 0.1
  done
  fail "'$1' not in the log"
}

# ok_pid: /ok must answer 200 "ok PID"; prints PID (the worker's pid).
ok_pid() {
  run get /ok
  [ "$status" -eq 0 ] || { fail "/ok failed: $output"; return 1; }
  [[ "$output" =~ ^ok\ [0-9]+$ ]] || { fail "/ok: $output"; return 1; }
  echo "${output#ok }"
}

@test "an app that raises: 500, traceback in the log, the process keeps serving" {
  local before after
  before="$(ok_pid)"
  run get /raise -o /dev/null -w '%{http_code}'
  [ "$output" = 500 ]
  wait_log 'RuntimeError: errors-app boom in app call'
  grep -q 'Traceback (most recent call last)' "$SERVER_LOG"
  after="$(ok_pid)"
  [ "$before" = "$after" ]
}

@test "a 500 keeps the keep-alive connection usable or closes it cleanly" {
  run raw --json "$(GET /raise)" "$(GET /ok)"
  echo "$output"
  [ "$(r 'r0["status"]')" = 500 ]
  # either the second request was answered, or the server closed the
  # connection right after a complete 500 (no garbage, no hang)
  if [ "$status" -eq 0 ]; then
    [ "$(r 'r1["status"]')" = 200 ]
  else
    [ "$(r 'len(d["responses"])')" = 2 ]
    [ "$(r 'r1')" = '{}' ]
  fi
}

@test "the iterator raises before its first chunk: 500" {
  run get /raise-iter-first -o /dev/null -w '%{http_code}'
  [ "$output" = 500 ]
  wait_log 'RuntimeError: errors-app boom before first chunk'
  ok_pid >/dev/null
}

@test "the iterator raises after the first chunk: connection closed, traceback, keeps serving" {
  local before; before="$(ok_pid)"
  run raw --json "$(GET /raise-iter-later)"
  echo "$output"
  # the response is cut short: not a complete, well-framed body
  [ "$status" -eq 3 ]
  [ "$(r 'r0["status"]')" = 200 ]
  [ "$(r 'd["closed"]')" = true ]
  wait_log 'RuntimeError: errors-app boom after first chunk'
  [ "$(ok_pid)" = "$before" ]
}

@test "curl sees an incomplete transfer when the iterator raises mid-body" {
  run get /raise-iter-later
  echo "status $status: $output"
  [ "$status" -ne 0 ]
  [ "$status" -ne 28 ]  # not a timeout: the server closed the connection
}

@test "a header value with CR LF is refused: 500, nothing injected" {
  run raw --json "$(GET /crlf-value)"
  echo "$output"
  [ "$(r 'r0["status"]')" = 500 ]
  [ "$(r '"x-injected" in h0')" = false ]
  [[ "$(r 'r0["raw_head"]')" != *X-Injected* ]]
  [[ "$(r 'r0["body"]')" != *"should not be sent"* ]]
  ok_pid >/dev/null
}

@test "a header value with a bare LF is refused: 500" {
  run raw --json "$(GET /lf-value)"
  [ "$(r 'r0["status"]')" = 500 ]
  [[ "$(r 'r0["raw_head"]')" != *X-Injected* ]]
}

@test "a header name with CR LF is refused: 500" {
  run raw --json "$(GET /crlf-name)"
  [ "$(r 'r0["status"]')" = 500 ]
  [[ "$(r 'r0["raw_head"]')" != *X-Injected* ]]
}

@test "a status line with CR LF is refused: 500, nothing injected" {
  run raw --json "$(GET /crlf-status)"
  echo "$output"
  [ "$(r 'r0["status"]')" = 500 ]
  [[ "$(r 'r0["raw_head"]')" != *X-Injected* ]]
}

@test "a header value that is not latin-1 is refused: 500" {
  run raw --json "$(GET /non-latin1-header)"
  [ "$(r 'r0["status"]')" = 500 ]
  [[ "$(r 'r0["body"]')" != *"should not be sent"* ]]
}

@test "a header value given as bytes (not str) is refused: 500" {
  run raw --json "$(GET /bytes-header)"
  [ "$(r 'r0["status"]')" = 500 ]
  [[ "$(r 'r0["body"]')" != *"should not be sent"* ]]
}

@test "exc_info before headers are sent replaces status and headers" {
  run raw --json "$(GET /exc-info-replace)"
  echo "$output"
  [ "$(r 'r0["status"]')" = 503 ]
  [ "$(r 'h0.get("x-second")')" = yes ]
  [ "$(r '"x-first" in h0')" = false ]
  expect_eq 'r0["body"]' 'replaced-body\n'
}

@test "exc_info after headers are sent: start_response re-raises, connection closed" {
  run raw --json "$(GET /exc-info-after)"
  echo "$output"
  [ "$(r 'r0["status"]')" = 200 ]
  [[ "$(r 'r0["body"]')" != *NOT-REACHED* ]]
  [ "$(r 'd["closed"]')" = true ]
  wait_log 'errors-app original error after headers'
  ok_pid >/dev/null
}

@test "start_response called twice without exc_info is an error (500)" {
  run get /start-twice -o /dev/null -w '%{http_code}'
  [ "$output" = 500 ]
}

@test "start_response takes status and headers by keyword" {
  run get /keywords -w ' %{http_code}'
  [ "$output" = "by keyword
 201" ]
}

@test "start_response called with wrong arguments raises TypeError in the app" {
  local c
  for c in extra unknown twice-named missing; do
    run get "/bad-args?case=$c"
    echo "$c: $output"
    [[ "$output" == "TypeError: "* ]]
  done
}

@test "an app that never calls start_response gets a 500" {
  run get /no-start-response -o /dev/null -w '%{http_code}'
  [ "$output" = 500 ]
  ok_pid >/dev/null
}

@test "an app that yields str instead of bytes gets a 500" {
  run get /yield-str -o /dev/null -w '%{http_code}'
  [ "$output" = 500 ]
  ok_pid >/dev/null
}

@test "an app that returns None gets a 500" {
  run get /none -o /dev/null -w '%{http_code}'
  [ "$output" = 500 ]
  ok_pid >/dev/null
}

@test "many errors in a row: still the same process, still serving" {
  local before; before="$(ok_pid)"
  for i in $(seq 10); do
    get /raise -o /dev/null
    get /raise-iter-later -o /dev/null || true
    get /crlf-value -o /dev/null
  done
  [ "$(ok_pid)" = "$before" ]
  # the controller did not have to restart anything
  [ "$(child_pids | wc -l)" -eq 1 ]
}

# ---- import failures (each starts its own controller) ----

# run_failing_start ARGS...: run the controller in the foreground (bounded
# to 15 s); $status, $output (stdout+stderr), $ELAPSED_MS.
run_failing_start() {
  local port start; port="$(free_port)"
  SERVER_TAG="fail-$$-$RANDOM"
  start=$(date +%s%N)
  cd "$SPAWNING_ROOT"
  run env SPAWNING_TEST_TAG="$SERVER_TAG" timeout 15 "$SPAWNING" --host 127.0.0.1 --port "$port" "$@"
  ELAPSED_MS=$(( ($(date +%s%N) - start) / 1000000 ))
  echo "status $status after ${ELAPSED_MS} ms; output:"
  echo "$output"
  printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/failing-start.log"
  assert_no_sanitizer_report "$BATS_TEST_TMPDIR/failing-start.log" || return 1
  # nothing it started may survive
  local left; left="$(tagged_pids "$SERVER_TAG")"
  for p in $left; do kill -KILL "$p" 2>/dev/null || true; done
  [ -z "$left" ] || { echo "processes left behind: $left"; return 1; }
}

@test "import failure (no such module): exit 1 quickly with the traceback" {
  run_failing_start --processes 2 nosuchmodule:app
  [ "$status" -eq 1 ]
  [ "$ELAPSED_MS" -lt 10000 ]
  [[ "$output" == *"ModuleNotFoundError: No module named 'nosuchmodule'"* ]]
}

@test "import failure does not loop: a bounded number of tracebacks" {
  run_failing_start --processes 1 nosuchmodule:app
  [ "$status" -eq 1 ]
  local n; n="$(grep -c "No module named 'nosuchmodule'" <<<"$output")"
  echo "tracebacks: $n"
  [ "$n" -ge 1 ]
  [ "$n" -le 5 ]
}

@test "import failure (module raises at import): exit 1, traceback names the error" {
  run_failing_start --processes 1 tests.apps.broken_import:app
  [ "$status" -eq 1 ]
  [ "$ELAPSED_MS" -lt 10000 ]
  [[ "$output" == *"RuntimeError: broken_import fails at import time"* ]]
  [[ "$output" == *broken_import.py* ]]
}

@test "missing callable in an existing module: exit 1, names the callable" {
  run_failing_start --processes 1 tests.apps.hello:no_such_callable
  [ "$status" -eq 1 ]
  [ "$ELAPSED_MS" -lt 10000 ]
  [[ "$output" == *no_such_callable* ]]
}

@test "missing middleware module: exit 1 with the traceback" {
  run_failing_start --processes 1 tests.apps.hello:app nosuchmiddleware.wrap
  [ "$status" -eq 1 ]
  [ "$ELAPSED_MS" -lt 10000 ]
  [[ "$output" == *nosuchmiddleware* ]]
}
