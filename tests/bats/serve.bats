#!/usr/bin/env bats
# Serving apps: APP forms, middleware order, --chdir, --pythonpath, Flask,
# the thread pool.

bats_require_minimum_version 1.5.0
load helpers

teardown() {
  stop_server
}

@test "hello world via curl (module:callable)" {
  start_server --processes 1 tests.apps.hello:app
  run get /
  [ "$status" -eq 0 ]
  [ "$output" = "Hello, World!" ]
  run get / -o /dev/null -w '%{http_code} %{content_type}'
  [ "$output" = "200 text/plain" ]
}

@test "APP as a dotted name (pkg.module.callable)" {
  start_server --processes 1 tests.apps.hello.app
  run get /
  [ "$status" -eq 0 ]
  [ "$output" = "Hello, World!" ]
}

@test "hello world under wsgiref.validate" {
  start_server --processes 1 tests.apps.hello:validated_app
  run get /any/path?x=1
  [ "$status" -eq 0 ]
  [ "$output" = "Hello, World!" ]
  assert_log_clean
}

@test "one middleware wraps the app" {
  start_server --processes 1 tests.apps.hello:app tests.apps.middleware.first
  run get / -i
  [ "$status" -eq 0 ]
  [ "$(header X-Middleware-first <<<"$output")" = yes ]
  [[ "$output" == *"Hello, World!"* ]]
}

@test "middleware order: the first listed is innermost" {
  start_server --processes 1 tests.apps.hello:app \
    tests.apps.middleware.first tests.apps.middleware.second tests.apps.middleware.third
  run get / -i
  [ "$status" -eq 0 ]
  echo "$output"
  [ "$(header X-Middleware-Order <<<"$output")" = "first,second,third" ]
  [ "$(header X-Middleware-second <<<"$output")" = yes ]
}

@test "middleware order reversed on the command line is reversed in the chain" {
  start_server --processes 1 tests.apps.hello:app \
    tests.apps.middleware.third tests.apps.middleware.first
  run get / -i
  echo "$output"
  [ "$(header X-Middleware-Order <<<"$output")" = "third,first" ]
}

@test "the current directory is on sys.path" {
  start_server --processes 1 tests.apps.echo_environ:app
  run get /
  [ "$status" -eq 0 ]
  [ "$(pyq 'd["_cwd"]' <<<"$output")" = "$SPAWNING_ROOT" ]
}

@test "--chdir DIR: changes directory before import, DIR on sys.path" {
  local dir="$BATS_TEST_TMPDIR/chdir app"
  mkdir -p "$dir"
  cat >"$dir/chdirapp.py" <<'PY'
import os
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("cwd=%s\n" % os.getcwd()).encode()]
PY
  start_server --processes 1 --chdir "$dir" chdirapp:app
  run get /
  [ "$status" -eq 0 ]
  [ "$output" = "cwd=$dir" ]
}

@test "--chdir=DIR form" {
  local dir="$BATS_TEST_TMPDIR/chdir2"
  mkdir -p "$dir"
  printf 'def app(e, sr):\n    sr("200 OK", [("Content-Type", "text/plain")])\n    return [b"chdir2\\n"]\n' >"$dir/chdir2app.py"
  start_server --processes 1 --chdir="$dir" chdir2app.app
  run get /
  [ "$output" = "chdir2" ]
}

@test "--pythonpath DIR (repeatable) adds directories to sys.path" {
  local d1="$BATS_TEST_TMPDIR/pp1" d2="$BATS_TEST_TMPDIR/pp2"
  mkdir -p "$d1" "$d2"
  printf 'def app(e, sr):\n    import ppmw\n    sr("200 OK", [("Content-Type", "text/plain")])\n    return [b"from pp1\\n"]\n' >"$d1/ppapp.py"
  printf 'def mw(app):\n    def w(e, sr):\n        return app(e, lambda s, h, x=None: sr(s, h + [("X-PP2", "yes")]))\n    return w\n' >"$d2/ppmw.py"
  start_server --processes 1 --pythonpath "$d1" --pythonpath="$d2" ppapp:app ppmw.mw
  run get / -i
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"from pp1"* ]]
  [ "$(header X-PP2 <<<"$output")" = yes ]
}

@test "Flask app: routes, JSON, POST body, streaming" {
  start_server --processes 1 tests.apps.flask_app:app
  run get /
  [ "$output" = "Hello from Flask" ]
  run get '/json/w%C3%B6rld?a=1'
  [ "$(pyq 'd["name"]' <<<"$output")" = "wörld" ]
  [ "$(pyq 'd["args"]["a"]' <<<"$output")" = 1 ]
  run get /echo --data-binary 'posted bytes'
  [ "$output" = "posted bytes" ]
  run get /stream
  [ "$output" = "$(printf 'part-0\npart-1\npart-2')" ]
  run get /missing -o /dev/null -w '%{http_code}'
  [ "$output" = 404 ]
}

@test "Django app (settings configured in the module)" {
  start_server --processes 1 tests.apps.django_app:application
  run get /
  [ "$output" = "Hello from Django" ]
  run get '/echo?x=1' --data-binary 'django body' -H 'Content-Type: text/plain'
  echo "$output"
  [ "$(pyq 'd["method"]' <<<"$output")" = POST ]
  [ "$(pyq 'd["get"]["x"]' <<<"$output")" = 1 ]
  [ "$(pyq 'd["body"]' <<<"$output")" = 'django body' ]
}

@test "--threads 4 (default): 4 slow requests run concurrently in one process" {
  start_server --processes 1 tests.apps.slow:app
  local start end
  start=$(date +%s%N)
  local pids=()
  for i in 1 2 3 4; do
    get '/?s=1' -o "$BATS_TEST_TMPDIR/out$i" &
    pids+=($!)
  done
  wait "${pids[@]}"
  end=$(date +%s%N)
  for i in 1 2 3 4; do
    [ "$(cat "$BATS_TEST_TMPDIR/out$i")" = "slept 1" ]
  done
  echo "elapsed ms: $(( (end - start) / 1000000 ))"
  [ $(( (end - start) / 1000000 )) -lt 1900 ]
}

@test "--threads 1: requests in one process are served one at a time" {
  start_server --processes 1 --threads 1 tests.apps.slow:app
  local start end
  start=$(date +%s%N)
  get '/?s=0.7' -o "$BATS_TEST_TMPDIR/a" &
  local p1=$!
  get '/?s=0.7' -o "$BATS_TEST_TMPDIR/b" &
  wait "$p1" $!
  end=$(date +%s%N)
  [ "$(cat "$BATS_TEST_TMPDIR/a")" = "slept 0.7" ]
  [ "$(cat "$BATS_TEST_TMPDIR/b")" = "slept 0.7" ]
  echo "elapsed ms: $(( (end - start) / 1000000 ))"
  [ $(( (end - start) / 1000000 )) -ge 1350 ]
}

@test "--threads 2: a quick request is answered at once while a slow one runs on the main thread" {
  start_server --processes 1 --threads 2 tests.apps.slow:app
  get '/?s=0' >/dev/null # warm: the next request runs on the main thread
  local started="$BATS_TEST_TMPDIR/started"
  get "/?s=3&started=$started" -o "$BATS_TEST_TMPDIR/slow" &
  local slow=$!
  for i in $(seq 50); do [ -s "$started" ] && break; sleep 0.05; done
  [ -s "$started" ]
  local start end
  start=$(date +%s%N)
  run get '/?s=0'
  end=$(date +%s%N)
  [ "$output" = "slept 0" ]
  echo "elapsed ms: $(( (end - start) / 1000000 ))"
  [ $(( (end - start) / 1000000 )) -lt 1000 ]
  wait "$slow"
  [ "$(cat "$BATS_TEST_TMPDIR/slow")" = "slept 3" ]
}

@test "--threads 2: never more than 2 requests in the app at once" {
  start_server --processes 1 --threads 2 tests.apps.slow:app
  local start end
  start=$(date +%s%N)
  local pids=()
  for i in 1 2 3; do
    get '/?s=0.7' -o "$BATS_TEST_TMPDIR/out$i" &
    pids+=($!)
  done
  wait "${pids[@]}"
  end=$(date +%s%N)
  for i in 1 2 3; do
    [ "$(cat "$BATS_TEST_TMPDIR/out$i")" = "slept 0.7" ]
  done
  echo "elapsed ms: $(( (end - start) / 1000000 ))"
  [ $(( (end - start) / 1000000 )) -ge 1350 ]
}

@test "idle and half-sent connections do not block the thread pool" {
  start_server --processes 1 --threads 2 tests.apps.hello:app
  # 10 idle connections and 10 half-sent requests stay open (more than
  # the 2 threads)...
  "$PY" -c 'import socket, sys, time
keep = []
for i in range(10):
    keep.append(socket.create_connection(("127.0.0.1", int(sys.argv[1]))))
    b = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    b.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
    keep.append(b)
time.sleep(3)' "$SERVER_PORT" 3>&- &
  local holder=$!
  sleep 0.3
  # ...while other clients are served promptly
  for i in 1 2 3 4 5; do
    run get / --max-time 2
    [ "$output" = "Hello, World!" ]
  done
  kill "$holder" 2>/dev/null || true
}
