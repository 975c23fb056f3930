#!/usr/bin/env bats
# -f/--factory: the config factory contract (options it sets, the app it
# names, the app itself), spawning.wsgi_factory, reloads re-running the
# factory, failures; --virtualenv; the debugging aids --coverage, --sysinfo.

bats_require_minimum_version 1.5.0
load helpers

teardown() {
  stop_server
}

# wait_get PATH WANT [SECONDS]: poll GET PATH until its body is WANT.
wait_get() {
  local i
  for ((i = 0; i < ${3:-10} * 10; i++)); do
    [[ "$(get "$1" 2>/dev/null)" == "$2" ]] && return 0
    sleep 0.1
  done
  fail "GET $1 never answered '$2' (last: '$(get "$1" 2>&1)')"
}

# expect_failed_start WANT_STATUS ARGS...: spawning ARGS exits WANT_STATUS
# within 20 s and leaves no process and no listening socket behind.
expect_failed_start() {
  local want="$1"; shift
  SERVER_PORT="$(free_port)"
  launch_server --port "$SERVER_PORT" "$@"
  wait_exit "$SERVER_PID" 20 || fail "spawning $* did not exit"
  [ "$EXIT_STATUS" = "$want" ] || fail "exit status $EXIT_STATUS, not $want"
  [ -z "$(tagged_pids "$SERVER_TAG")" ] || fail "processes left: $(tagged_pids "$SERVER_TAG")"
  ! curl -s --noproxy '*' --max-time 1 "http://127.0.0.1:$SERVER_PORT/" || fail "port still open"
  ! grep -q 'Sanitizer' "$SERVER_LOG" || fail "sanitizer report"
}

@test "--help lists --factory, --virtualenv, --coverage and --sysinfo" {
  run "$SPAWNING" --help
  [ "$status" -eq 0 ]
  [[ "$output" == *"-f, --factory DOTTED"* ]]
  [[ "$output" == *"--virtualenv DIR"* ]]
  [[ "$output" == *"-c, --coverage"*"never in production"* ]]
  [[ "$output" == *"--sysinfo"*"never in production"* ]]
}

@test "spawning.wsgi_factory: APP and a middleware chain, first listed wraps first" {
  start_server --processes 1 --factory=spawning.wsgi_factory.config_factory \
    tests.apps.hello:app tests.apps.middleware.first tests.apps.middleware.second
  run get / -i
  echo "$output"
  [[ "$output" == *"Hello, World!"* ]]
  [ "$(header X-Middleware-Order <<<"$output")" = "first,second" ]
  [ "$(header X-Middleware-first <<<"$output")" = yes ]
}

@test "options the factory sets apply (port, old name threadpool_workers), args reach it" {
  export FACTORY_PORT="$(free_port)" FACTORY_THREADS=3
  start_server_port "$FACTORY_PORT" -s 1 -f tests.apps.factories:with_options one two
  run get /
  [ "$output" = "port=$FACTORY_PORT threads=3 args=one,two" ]
  grep -q "listening on http://127.0.0.1:$FACTORY_PORT (1 processes, 3 threads each)" "$SERVER_LOG"
}

@test "the command line wins over the factory's options" {
  export FACTORY_PORT="$(free_port)"
  local port; port="$(free_port)"
  start_server_port "$port" -s 1 --port "$port" --threads 5 -f tests.apps.factories:with_options
  run get /
  [ "$output" = "port=$port threads=5 args=" ]
  ! curl -s --noproxy '*' --max-time 1 "http://127.0.0.1:$FACTORY_PORT/"
}

@test "a factory may return the WSGI app itself" {
  start_server -s 1 --factory tests.apps.factories.direct a b
  run get /
  [ "$output" = "direct: a b" ]
}

@test "SIGHUP: the new generation runs the factory again" {
  export FACTORY_GREETING_FILE="$BATS_TEST_TMPDIR/greeting"
  echo first >"$FACTORY_GREETING_FILE"
  start_server -s 1 -f tests.apps.factories:greeting
  [[ "$(get /)" == "first (pid "* ]]
  echo second >"$FACTORY_GREETING_FILE"
  kill -HUP "$SERVER_PID"
  for i in $(seq 1 100); do
    grep -q "reload complete" "$SERVER_LOG" && break
    sleep 0.1
  done
  [[ "$(get /)" == "second (pid "* ]]
}

@test "--reload=dev: a file in the factory's watch list reloads" {
  export FACTORY_GREETING_FILE="$BATS_TEST_TMPDIR/greeting"
  echo hello >"$FACTORY_GREETING_FILE"
  start_server -s 1 --reload=dev -f tests.apps.factories:greeting
  [[ "$(get /)" == "hello (pid "* ]]
  sleep 0.5
  echo edited >"$FACTORY_GREETING_FILE"
  for i in $(seq 1 50); do
    [[ "$(get /)" == "edited (pid "* ]] && break
    sleep 0.1
  done
  [[ "$(get /)" == "edited (pid "* ]]
}

@test "--chuid: the factory never runs as root, not even in the probe before binding" {
  [ "$(id -u)" -eq 0 ] || skip "needs root"
  start_server --processes 1 --chuid nobody:nogroup -f tests.apps.factories:not_as_root
  [ "$(get /)" = "factory uid $(id -u nobody)" ]
}

@test "a factory that raises: its traceback, exit 1, nothing left behind" {
  expect_failed_start 1 -s 2 -f tests.apps.factories:raises
  cat "$SERVER_LOG"
  grep -q "Traceback" "$SERVER_LOG"
  grep -q "RuntimeError: this factory is broken on purpose" "$SERVER_LOG"
  ! grep -q "listening on" "$SERVER_LOG"
}

@test "a factory module that does not exist: one line, exit 1" {
  expect_failed_start 1 -s 2 -f no_such_module.config_factory
  cat "$SERVER_LOG"
  [ "$(wc -l <"$SERVER_LOG")" -eq 1 ]
  grep -q "\[ERROR\] no_such_module.config_factory: no module named 'no_such_module'" "$SERVER_LOG"
}

@test "a factory returning neither a dict nor an app: one line, exit 1" {
  expect_failed_start 1 -f tests.apps.factories:not_a_dict
  cat "$SERVER_LOG"
  [ "$(wc -l <"$SERVER_LOG")" -eq 1 ]
  grep -q "returned int" "$SERVER_LOG"
}

@test "spawning.wsgi_factory with an APP that does not import: traceback, exit 1" {
  expect_failed_start 1 -s 1 -f spawning.wsgi_factory.config_factory tests.apps.broken_import:app
  grep -q "Traceback" "$SERVER_LOG"
}

@test "--virtualenv: a missing directory or one without site-packages, one line, exit 2" {
  expect_failed_start 2 --virtualenv "$BATS_TEST_TMPDIR/nope" tests.apps.hello:app
  [ "$(cat "$SERVER_LOG")" = "spawning: --virtualenv $BATS_TEST_TMPDIR/nope: no such directory" ]
  expect_failed_start 2 --virtualenv "$BATS_TEST_TMPDIR" tests.apps.hello:app
  [ "$(wc -l <"$SERVER_LOG")" -eq 1 ]
  grep -q "no lib/python3.*/site-packages in it" "$SERVER_LOG"
}

@test "--virtualenv DIR: the app imports from its site-packages (and .pth files)" {
  local venv="$BATS_TEST_TMPDIR/venv"
  "$PY" -m venv --without-pip "$venv"
  local site=("$venv"/lib/python3.*/site-packages)
  printf 'def app(e, sr):\n    sr("200 OK", [("Content-Type", "text/plain")])\n    return [b"from the venv\\n"]\n' >"$site/venvapp.py"
  mkdir -p "$venv/extra"
  printf 'def app(e, sr):\n    sr("200 OK", [("Content-Type", "text/plain")])\n    return [b"via pth\\n"]\n' >"$venv/extra/pthapp.py"
  echo "$venv/extra" >"$site/extra.pth"
  start_server -s 1 --virtualenv "$venv" venvapp:app
  [ "$(get /)" = "from the venv" ]
  stop_server
  start_server -s 1 --virtualenv "$venv" -f spawning.wsgi_factory.config_factory pthapp:app
  [ "$(get /)" = "via pth" ]
}

@test "--coverage: /_coverage reports the app's module" {
  start_server -s 1 --coverage tests.apps.hello:app
  [ "$(get /)" = "Hello, World!" ]
  run get /_coverage -i
  echo "$output"
  [[ "$(header Content-Type <<<"$output")" == text/plain* ]]
  [[ "$output" == *"tests/apps/hello.py"* ]]
  [[ "$output" == *"TOTAL"* ]]
  [[ "$output" != *"spawning/debug.py"* ]]
}

@test "--sysinfo: /_sysinfo is JSON with sys.path; off by default" {
  start_server -s 1 --sysinfo -f spawning.wsgi_factory.config_factory tests.apps.hello:app
  run get /_sysinfo
  echo "$output"
  [ "$(pyq 'd["pid"] > 0' <<<"$output")" = true ]
  [ "$(pyq 'd["sys_path"][0]' <<<"$output")" = "$SPAWNING_ROOT" ]
  [ "$(pyq '"python_version" in d and "platform" in d' <<<"$output")" = true ]
  [ "$(get /)" = "Hello, World!" ]
  stop_server
  start_server -s 1 tests.apps.hello:app
  [ "$(get /_sysinfo)" = "Hello, World!" ]
  [ "$(get /_coverage)" = "Hello, World!" ]
}
