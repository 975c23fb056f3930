#!/usr/bin/env bats
# PasteDeploy: spawning.paste_factory (--factory INI), the server runner
# (`use = egg:Spawning` under pserve and loadserver), make install of the
# package and its entry points, --reload=dev on the ini, a bad ini.

bats_require_minimum_version 1.5.0
load helpers

PASTE_FACTORY=spawning.paste_factory.config_factory

setup() {
  INI="$BATS_TEST_TMPDIR/dev.ini"
  INI_PORT="$(free_port)"
  mkdir -p "$BATS_TEST_TMPDIR/static"
  echo "a static file" >"$BATS_TEST_TMPDIR/static/a.txt"
  write_ini hello
}

teardown() {
  stop_server
}

# write_ini GREETING: the test's ini, [server:main] on INI_PORT.
write_ini() {
  cat >"$INI.tmp" <<INI
[DEFAULT]
who = the ini

[app:main]
use = call:tests.apps.paste_apps:make_app
greeting = $1

[app:files]
use = egg:Paste#static
document_root = %(here)s/static

[server:main]
use = egg:Spawning
host = 127.0.0.1
port = $INI_PORT
num_processes = 1
threads = 2
INI
  mv "$INI.tmp" "$INI"
}

@test "--factory paste_factory: [app:main], port and processes from [server:main]" {
  start_server_port "$INI_PORT" --factory=$PASTE_FACTORY "$INI"
  [ "$(get /)" = "hello the ini" ]
  grep -q "listening on http://127.0.0.1:$INI_PORT (1 processes, 2 threads each)" "$SERVER_LOG"
}

@test "paste_factory: --port and --processes on the command line win over [server:main]" {
  local port; port="$(free_port)"
  start_server_port "$port" -p "$port" -s 2 -f $PASTE_FACTORY "$INI"
  [ "$(get /)" = "hello the ini" ]
  grep -q "listening on http://127.0.0.1:$port (2 processes, 2 threads each)" "$SERVER_LOG"
  ! curl -s --noproxy '*' --max-time 1 "http://127.0.0.1:$INI_PORT/"
}

@test "paste_factory: INI#name picks another app (egg:Paste#static), name=value overrides" {
  start_server_port "$INI_PORT" -f $PASTE_FACTORY "$INI#files"
  [ "$(get /a.txt)" = "a static file" ]
  stop_server
  start_server_port "$INI_PORT" -f $PASTE_FACTORY "$INI" "who=the command line"
  [ "$(get /)" = "hello the command line" ]
}

@test "paste_factory --reload=dev: editing the ini reloads" {
  start_server_port "$INI_PORT" --reload=dev -f $PASTE_FACTORY "$INI"
  [ "$(get /)" = "hello the ini" ]
  sleep 0.5
  write_ini goodbye
  for i in $(seq 1 50); do
    [ "$(get /)" = "goodbye the ini" ] && break
    sleep 0.1
  done
  [ "$(get /)" = "goodbye the ini" ]
  grep -q "dev.ini" "$SERVER_LOG"
}

@test "an ini without [app:main]: one line naming the file and the section, exit 1, nothing left" {
  printf '[server:main]\nport = %s\n' "$INI_PORT" >"$BATS_TEST_TMPDIR/noapp.ini"
  launch_server -s 2 -f $PASTE_FACTORY "$BATS_TEST_TMPDIR/noapp.ini"
  wait_exit "$SERVER_PID" 20
  cat "$SERVER_LOG"
  [ "$EXIT_STATUS" = 1 ]
  [ "$(wc -l <"$SERVER_LOG")" -eq 1 ]
  grep -q "\[ERROR\] $BATS_TEST_TMPDIR/noapp.ini: no \[app:main\] section" "$SERVER_LOG"
  [ -z "$(tagged_pids "$SERVER_TAG")" ]
  ! curl -s --noproxy '*' --max-time 1 "http://127.0.0.1:$INI_PORT/"
}

@test "a missing ini: one line, exit 1" {
  launch_server -f $PASTE_FACTORY "$BATS_TEST_TMPDIR/missing.ini"
  wait_exit "$SERVER_PID" 20
  [ "$EXIT_STATUS" = 1 ]
  grep -q "missing.ini: no such file" "$SERVER_LOG"
  [ "$(wc -l <"$SERVER_LOG")" -eq 1 ]
}

# launch_tagged CMD...: run CMD (which becomes spawning) like launch_server.
launch_tagged() {
  SERVER_TAG="$$-$RANDOM-$RANDOM"
  SERVER_LOG="$BATS_TEST_TMPDIR/server-$SERVER_TAG.log"
  echo "$SERVER_TAG" >>"$BATS_TEST_TMPDIR/.spawning-tags"
  (cd "$SPAWNING_ROOT" && SPAWNING_TEST_TAG="$SERVER_TAG" exec "$@" \
      </dev/null >"$SERVER_LOG" 2>&1 3>&- 4>&-) &
  SERVER_PID=$!
  SERVER_PORT="$INI_PORT"
  export SERVER_PID SERVER_LOG SERVER_TAG SERVER_PORT
}

@test "pserve dev.ini with use = egg:Spawning (PYTHONPATH=the build's python dir)" {
  command -v pserve3 || skip "pserve3 (python3-pyramid) is not installed"
  PYTHONPATH="$SPAWNING_BUILD_DIR/python:$SPAWNING_ROOT" launch_tagged pserve3 "$INI"
  wait_http "$INI_PORT"
  [ "$(get /)" = "hello the ini" ]
  # pserve became spawning: the same process serves, with the ini's options
  grep -q "listening on http://127.0.0.1:$INI_PORT (1 processes, 2 threads each)" "$SERVER_LOG"
  [[ "$(tr '\0' ' ' </proc/$SERVER_PID/cmdline)" == *"--factory=spawning.paste_factory.config_factory"* ]]
  # a graceful stop as with spawning itself
  kill -TERM "$SERVER_PID"
  wait_exit "$SERVER_PID" 10
  [ -z "$(tagged_pids "$SERVER_TAG")" ]
}

@test "make install DESTDIR: loadserver('config:dev.ini') finds egg:Spawning; uninstall removes it all" {
  local dest="$BATS_TEST_TMPDIR/dest" make_args=(BUILD="$SPAWNING_BUILD_DIR")
  [[ "$SPAWNING_BUILD_DIR" == *asan* ]] && make_args+=(SANITIZE=1)
  make -s -C "$SPAWNING_ROOT" "${make_args[@]}" install DESTDIR="$dest" PREFIX=/usr/local
  local site="$dest/usr/local/lib/python3/dist-packages"
  [ -f "$site/spawning/paste_factory.py" ]
  grep -q '^\[paste.server_runner\]' "$site"/Spawning-*.dist-info/entry_points.txt
  grep -q '^BINDIR = "/usr/local/bin"' "$site/spawning/_paths.py"
  [ -x "$dest/usr/local/bin/spawning_child" ]
  PYTHONPATH="$site" SPAWNING_BIN="$dest/usr/local/bin/spawning" launch_tagged "$PY" -c '
import sys
from paste.deploy import loadserver
loadserver("config:" + sys.argv[1])(None)' "$INI"
  wait_http "$INI_PORT"
  [ "$(get /)" = "hello the ini" ]
  stop_server
  make -s -C "$SPAWNING_ROOT" "${make_args[@]}" uninstall DESTDIR="$dest" PREFIX=/usr/local
  run find "$dest" -not -type d
  echo "$output"
  [ -z "$output" ]
}
