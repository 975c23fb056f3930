#!/usr/bin/env bats
# nginx in front of Spawning over a UNIX socket, with the shipped
# etc/nginx-spawning.conf (only its paths and port changed for the test):
# keep-alive to the upstream, forwarded client addresses, no errors under
# load or during a reload. As deployed: nginx's workers and Spawning run as
# an unprivileged user (nobody), the socket belongs to it (--chuid) and is
# mode 0660.

bats_require_minimum_version 1.5.0
load helpers

NGINX=/usr/sbin/nginx

setup() {
  [[ -x "$NGINX" ]] || skip "nginx is not installed"
  [ "$(id -u)" -eq 0 ] || skip "needs root (nginx and Spawning switch to nobody)"
  # What nginx's workers (nobody) reach: a directory anyone may enter.
  WORLD=$(mktemp -d /tmp/spawning-nginx.XXXXXX)
  chmod 755 "$WORLD"
  SOCK="$WORLD/app.sock"
  NGINX_PORT=$(free_port)
  NGINX_DIR="$BATS_TEST_TMPDIR/nginx"
  mkdir -p "$NGINX_DIR" "$WORLD/static"
  echo "static file" >"$WORLD/static/hello.txt"
  chmod -R a+rX "$WORLD/static"
  # The shipped server block, pointed at this test's socket, port and files.
  sed -e "s|unix:/run/spawning.sock|unix:$SOCK|" \
      -e "s|listen 80;|listen 127.0.0.1:$NGINX_PORT;|" \
      -e "/listen \[::\]:80;/d" \
      -e "s|/srv/app/static/|$WORLD/static/|" \
      "$SPAWNING_ROOT/etc/nginx-spawning.conf" >"$NGINX_DIR/spawning.conf"
  cat >"$NGINX_DIR/nginx.conf" <<EOF
daemon off;
user nobody nogroup;
worker_processes 1;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $WORLD/body;
    proxy_temp_path $WORLD/proxy;
    include $NGINX_DIR/spawning.conf;
}
EOF
  "$NGINX" -t -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" -e "$NGINX_DIR/error.log" 2>&1 ||
    { cat "$NGINX_DIR/error.log"; return 1; }
  "$NGINX" -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" -e "$NGINX_DIR/error.log" 3>&- 4>&- &
  NGINX_PID=$!
}

teardown() {
  [[ -n "${NGINX_PID:-}" ]] && kill -QUIT "$NGINX_PID" 2>/dev/null
  stop_server
  kill_all_tagged
  [[ -n "${WORLD:-}" ]] && rm -rf "$WORLD"
}

# start_behind_nginx ARGS...: Spawning on the UNIX socket, then wait until
# nginx passes a request through.
start_behind_nginx() {
  SERVER_PORT="$NGINX_PORT"
  launch_server -b "unix:$SOCK" --chuid nobody:nogroup "$@"
  wait_http "$NGINX_PORT" /pid
  [ "$(stat -c '%U:%G %a' "$SOCK")" = "nobody:nogroup 660" ]
}

@test "nginx -> UNIX socket: answers, static files from nginx, the client's address forwarded" {
  start_behind_nginx --processes 1 tests.apps.echo_environ:app
  run get /some/path
  [ "$status" -eq 0 ]
  [ "$(pyq 'd["PATH_INFO"]' <<<"$output")" = /some/path ]
  [ "$(pyq 'd["REMOTE_ADDR"]' <<<"$output")" = 127.0.0.1 ]
  [ "$(pyq 'd["HTTP_HOST"]' <<<"$output")" = 127.0.0.1 ]
  [ "$(pyq 'd["wsgi.url_scheme"]' <<<"$output")" = http ]
  [ "$(get /static/hello.txt)" = "static file" ]
}

@test "nginx keeps connections to Spawning open (upstream keep-alive) and loses nothing under load" {
  command -v wrk >/dev/null || skip "wrk is not installed"
  start_behind_nginx --processes 2 tests.apps.lifecycle_app:app
  run wrk -t2 -c32 -d3s "http://127.0.0.1:$NGINX_PORT/"
  echo "$output"
  [[ "$output" =~ ([0-9]+)\ requests\ in ]]
  local total="${BASH_REMATCH[1]}"
  [ "$total" -gt 1000 ]
  ! grep -q "Socket errors" <<<"$output" || fail "socket errors: $output"
  ! grep -q "Non-2xx" <<<"$output" || fail "non-2xx answers: $output"
  # Idle connections from nginx stay open to the socket after the load
  # (nginx's keepalive pool): requests did not each cost a connection.
  local idle
  idle=$(ss -xH state established | grep -c "$SOCK" || true)
  [ "$idle" -gt 0 ] || fail "no kept-alive upstream connection"
  [ "$idle" -le 64 ]
  ! grep -q "\[error\]" "$NGINX_DIR/error.log" || { cat "$NGINX_DIR/error.log"; false; }
}

@test "nginx in front: graceful reloads under load give the client no error" {
  command -v wrk >/dev/null || skip "wrk is not installed"
  start_behind_nginx --processes 2 tests.apps.lifecycle_app:app
  wrk -t2 -c16 -d6s "http://127.0.0.1:$NGINX_PORT/" >"$BATS_TEST_TMPDIR/wrk.out" 2>&1 &
  local wrk_pid=$!
  sleep 0.5
  for i in $(seq 1 6); do kill -HUP "$SERVER_PID"; sleep 0.7; done
  wait "$wrk_pid"
  cat "$BATS_TEST_TMPDIR/wrk.out"
  grep -qE "[0-9]+ requests in" "$BATS_TEST_TMPDIR/wrk.out"
  ! grep -q "Socket errors" "$BATS_TEST_TMPDIR/wrk.out"
  ! grep -q "Non-2xx" "$BATS_TEST_TMPDIR/wrk.out"
  [ "$(grep -c 'reload complete' "$SERVER_LOG")" -ge 3 ]
  ! grep -q "\[error\]" "$NGINX_DIR/error.log" || { cat "$NGINX_DIR/error.log"; false; }
}
