#!/usr/bin/env bats
# Command line: --help, --version, option forms, bad options (exit 2 with
# one line on stderr naming the option), missing APP, start-up log lines.

bats_require_minimum_version 1.5.0
load helpers

setup() {
  require_build
  cd "$SPAWNING_ROOT"
  # anything run_cli starts by mistake carries this tag, so teardown finds it
  CLI_TAG="cli-$$-$RANDOM"
}

teardown() {
  local p
  for p in $(tagged_pids "$CLI_TAG"); do kill -KILL "$p" 2>/dev/null || true; done
  stop_server
}

# run_cli ARGS...: run spawning (bounded to 10 s) with stdout and stderr
# kept apart ($output / $stderr).
run_cli() {
  run --separate-stderr env SPAWNING_TEST_TAG="$CLI_TAG" timeout 10 "$SPAWNING" "$@"
  printf '%s\n' "$stderr" >"$BATS_TEST_TMPDIR/cli-stderr.log"
  assert_no_sanitizer_report "$BATS_TEST_TMPDIR/cli-stderr.log"
}

# assert_bad_option OPTION ARGS...: exit 2, stdout empty, exactly one line
# on stderr, and that line names OPTION.
assert_bad_option() {
  local opt="$1"; shift
  run_cli "$@"
  echo "args: $* / status: $status / stdout: $output / stderr: $stderr"
  [ "$status" -eq 2 ]
  [ -z "$output" ]
  [ "${#stderr_lines[@]}" -eq 1 ]
  [[ "$stderr" == *"$opt"* ]]
}

@test "--help exits 0 and lists every option on stdout" {
  run_cli --help
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *[Uu]sage* ]]
  for opt in -i --host -p --port -s --processes -t --threads \
             --graceful-timeout --chdir --pythonpath --help --version; do
    grep -qE -- "(^|[^-a-z])$opt([^-a-z]|$)" <<<"$output" || { echo "missing $opt"; false; }
  done
}

@test "--version prints 'spawning X.Y.Z' and exits 0" {
  run_cli --version
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ ^spawning\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
}

@test "unknown option: exit 2, one line naming it" {
  assert_bad_option --no-such-option --no-such-option tests.apps.hello:app
}

@test "--port with a non-number: exit 2, one line naming --port and the value" {
  assert_bad_option --port --port abc tests.apps.hello:app
  [[ "$stderr" == *abc* ]]
}

@test "--port=VALUE form is validated too" {
  assert_bad_option --port --port=abc tests.apps.hello:app
}

@test "--port out of range: exit 2" {
  assert_bad_option --port --port 70000 tests.apps.hello:app
}

@test "-p with a bad value: exit 2, one line naming the option" {
  run_cli -p abc tests.apps.hello:app
  echo "status: $status / stderr: $stderr"
  [ "$status" -eq 2 ]
  [ "${#stderr_lines[@]}" -eq 1 ]
  [[ "$stderr" == *-p* || "$stderr" == *--port* ]]
}

@test "--port without a value: exit 2" {
  run_cli tests.apps.hello:app --port
  echo "status: $status / stderr: $stderr"
  [ "$status" -eq 2 ]
  [ "${#stderr_lines[@]}" -eq 1 ]
  [[ "$stderr" == *--port* ]]
}

@test "--threads over the maximum is rejected with a clear error, exit 2" {
  assert_bad_option --threads --threads 1025 tests.apps.hello:app
}

@test "--threads with a negative or non-numeric value: exit 2" {
  assert_bad_option --threads --threads -1 tests.apps.hello:app
  assert_bad_option --threads --threads=many tests.apps.hello:app
}

@test "--processes with a bad value: exit 2" {
  assert_bad_option --processes --processes abc tests.apps.hello:app
  assert_bad_option --processes --processes 0 tests.apps.hello:app
}

@test "--graceful-timeout with a bad value: exit 2" {
  assert_bad_option --graceful-timeout --graceful-timeout soon tests.apps.hello:app
}

@test "missing APP: exit 2, one line" {
  run_cli --port 8080
  echo "status: $status / stderr: $stderr"
  [ "$status" -eq 2 ]
  [ -z "$output" ]
  [ "${#stderr_lines[@]}" -eq 1 ]
}

@test "no arguments at all: exit 2, one line" {
  run_cli
  echo "status: $status / stderr: $stderr"
  [ "$status" -eq 2 ]
  [ "${#stderr_lines[@]}" -eq 1 ]
}

@test "long options with '=' (--host=, --port=, --processes=, --threads=)" {
  local port; port="$(free_port)"
  start_server_port "$port" --host=127.0.0.1 --port="$port" --processes=1 \
    --threads=2 --graceful-timeout=5 tests.apps.hello:app
  run get /
  [ "$status" -eq 0 ]
  [ "$output" = "Hello, World!" ]
}

@test "short options -i -p -s -t" {
  local port; port="$(free_port)"
  start_server_port "$port" -i 127.0.0.1 -p "$port" -s 1 -t 2 tests.apps.echo_environ:app
  run get /
  [ "$status" -eq 0 ]
  [ "$(pyq 'd["wsgi.multiprocess"]' <<<"$output")" = false ]
  [ "$(pyq 'd["wsgi.multithread"]' <<<"$output")" = true ]
}

@test "start-up logs 'listening on http://HOST:PORT' and 'child PID ready' in the log format" {
  start_server --processes 1 tests.apps.hello:app
  wait_ready 1
  grep -E "^\[[^]]+\] \[$SERVER_PID\] \[INFO\] (.* )?listening on http://127\.0\.0\.1:$SERVER_PORT([^0-9]|$)" "$SERVER_LOG" \
    || fail "no listening line"
  local child; child="$(child_pids)"
  [ -n "$child" ] || fail "no child"
  grep -E "^\[[^]]+\] \[[0-9]+\] \[INFO\] child $child ready" "$SERVER_LOG" \
    || fail "no ready line for child $child"
}

@test "a port already in use: the controller exits non-zero quickly" {
  local port; port="$(free_port)"
  # hold the port for 15 s in a listening socket
  "$PY" -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); print("bound", flush=True); time.sleep(15)' "$port" \
    >"$BATS_TEST_TMPDIR/holder.out" 3>&- &
  local holder=$!
  for i in $(seq 50); do grep -q bound "$BATS_TEST_TMPDIR/holder.out" && break; sleep 0.1; done
  run_cli --host 127.0.0.1 --port "$port" tests.apps.hello:app
  kill "$holder" 2>/dev/null || true
  echo "status: $status / stderr: $stderr"
  [ "$status" -ne 0 ]
  [ "$status" -ne 124 ]  # not killed by timeout
}
