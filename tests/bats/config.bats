#!/usr/bin/env bats
# --config FILE: every long option under the same name; the command line
# wins; etc/spawning.conf documents every option.

bats_require_minimum_version 1.5.0
load helpers

teardown() {
  stop_server
  kill_all_tagged
}

@test "--config: options and the app come from the file" {
  local port conf="$BATS_TEST_TMPDIR/spawning.conf"
  port=$(free_port)
  cat >"$conf" <<EOF
# a comment, then a blank line

port = $port
host = 127.0.0.1
processes = 2
threads=3
max_requests = 1000
log_level = "warning"
app = tests.apps.echo_environ:app
EOF
  SERVER_PORT="$port"
  launch_server --config "$conf"
  wait_http "$port"
  run get /
  [ "$(pyq 'd["wsgi.multithread"]' <<<"$output")" = true ]
  [ "$(pyq 'd["wsgi.multiprocess"]' <<<"$output")" = true ]
  run "$SPAWNING_BUILD_DIR/spawnctl" --port "$port" status --json
  expect_eq 'str(d["config"]["threads"])' 3
  expect_eq 'str(d["config"]["processes"])' 2
  # log-level warning: no INFO lines
  ! grep -q "\[INFO\]" "$SERVER_LOG"
}

@test "--config: the command line wins, its APP replaces the file's" {
  local port conf="$BATS_TEST_TMPDIR/spawning.conf"
  port=$(free_port)
  printf 'port = 1\nprocesses = 3\napp = tests.apps.does_not_exist:app\n' >"$conf"
  SERVER_PORT="$port"
  launch_server --config="$conf" --port "$port" -s 1 tests.apps.hello:app
  wait_http "$port"
  [ "$(get /)" = "Hello, World!" ]
  [ "$(child_pids | wc -l)" -eq 1 ]
}

@test "--config: a bad line is one error naming the file, the line and the option; exit 2" {
  local conf="$BATS_TEST_TMPDIR/bad.conf"
  printf 'port = 8080\n\n# fine so far\nworkers = 4\n' >"$conf"
  run -2 "$SPAWNING" --config "$conf" tests.apps.hello:app
  [ "$output" = "spawning: $conf:4: unknown option 'workers'" ] || fail "$output"
  printf 'threads = many\n' >"$conf"
  run -2 "$SPAWNING" --config "$conf" tests.apps.hello:app
  [[ "$output" == "spawning: $conf:1: --threads: 'many'"* ]] || fail "$output"
  run -2 "$SPAWNING" --config "$BATS_TEST_TMPDIR/missing.conf" tests.apps.hello:app
  [[ "$output" == *"missing.conf"* ]] || fail "$output"
  [ "$(grep -c . <<<"$output")" -eq 1 ]
}

@test "etc/spawning.conf documents every option of --help, and loads as shipped" {
  local conf="$SPAWNING_ROOT/etc/spawning.conf" name missing=""
  for name in $("$SPAWNING" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
    name="${name#--}"
    case "$name" in help | version | config) continue ;; esac
    grep -qE "^# $name = " "$conf" || missing="$missing $name"
  done
  [ -z "$missing" ] || fail "not in etc/spawning.conf:$missing"
  # Uncommented, each documented line is a valid setting of the option.
  local live="$BATS_TEST_TMPDIR/live.conf"
  grep -E '^# [a-z-]+ = ' "$conf" | sed 's/^# //' |
    grep -vE '^(app|daemonize|chuid|pidfile|stdout|stderr|bind|chdir|pythonpath|watch|admin-socket|access-log-file|virtualenv|factory) ' \
    >"$live"
  # The TLS lines name files: made here, for real (every TCP address then
  # speaks TLS: the file names no https:// address).
  local tls="$BATS_TEST_TMPDIR"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout "$tls/key.pem" \
    -out "$tls/cert.pem" >/dev/null 2>&1
  sed -i -e "s|^certfile = .*|certfile = $tls/cert.pem|" -e "s|^keyfile = .*|keyfile = $tls/key.pem|" \
    -e "s|^ca-certs = .*|ca-certs = $tls/cert.pem|" "$live"
  local port
  port=$(free_port)
  SERVER_PORT="$port"
  launch_server --config "$live" --port "$port" --status-port "$(free_port)" \
    --admin-socket none tests.apps.hello:app
  wait_http "$port"
  [ "$(curl -s --max-time 10 --cacert "$tls/cert.pem" "https://127.0.0.1:$port/")" = "Hello, World!" ]
}
