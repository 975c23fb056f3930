#!/usr/bin/env bats
# The access log: -l/--access-log-file, --access-log-format, stdout by
# default, /dev/null, requests the server answers itself, whole lines under
# load from several processes and threads, reopening after log rotation
# (logrotate and spawnctl), green mode.

bats_require_minimum_version 1.5.0
load helpers

SPAWNCTL="$SPAWNING_BUILD_DIR/spawnctl"
CLIENT="$BATS_TEST_DIRNAME/accesslog_client.py"

# The pieces of the default line (Apache combined plus the seconds taken).
TIME_RE='\[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}\]'
DURATION_RE='[0-9]+\.[0-9]{6}'
# Any default line, whatever the request.
LINE_RE="^[0-9a-f.:]+ - - $TIME_RE \"[A-Z]+ [^ \"]* HTTP/1\\.[01]\" [0-9]{3} ([0-9]+|-) \"[^\"]*\" \"[^\"]*\" $DURATION_RE\$"

teardown() {
  stop_server
}

teardown_file() {
  kill_all_tagged
}

# wait_line FILE ERE [SECONDS]: wait until a line of FILE matches (lines
# are flushed within 100 ms).
wait_line() {
  local file="$1" re="$2" secs="${3:-5}" i
  for ((i = 0; i < secs * 10; i++)); do
    grep -qE -- "$re" "$file" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "no line matching $re in $file:" >&2
  cat "$file" >&2 2>/dev/null
  return 1
}

# wait_count FILE ERE N [SECONDS]: wait until N lines of FILE match.
wait_count() {
  local file="$1" re="$2" n="$3" secs="${4:-10}" i
  for ((i = 0; i < secs * 10; i++)); do
    [[ "$(grep -cE -- "$re" "$file" 2>/dev/null)" -ge "$n" ]] && return 0
    sleep 0.1
  done
  echo "fewer than $n lines matching $re in $file" >&2
  return 1
}

# long_agent: a ~300-byte User-Agent, so lines are long.
long_agent() {
  local a="LoadAgent/1.0"
  while ((${#a} < 300)); do a="$a (compatible; x$((${#a} % 97)))"; done
  echo "$a"
}

@test "default: the combined format plus the duration, on stdout" {
  start_server --processes 1 tests.apps.hello:app
  run get '/some/path?x=1&y=two' -H 'Referer: http://example.com/from' -A 'TestAgent/1.0 (bats)'
  [ "$output" = "Hello, World!" ]
  local re="^127\\.0\\.0\\.1 - - $TIME_RE \"GET /some/path\\?x=1&y=two HTTP/1\\.1\" 200 14 \"http://example\\.com/from\" \"TestAgent/1\\.0 \\(bats\\)\" $DURATION_RE\$"
  wait_line "$SERVER_LOG" "$re" || fail "no access line in the server's stdout"
  local line
  line="$(grep -E "$re" "$SERVER_LOG")"
  [[ "$line" =~ ^([^ ]+)\ (-)\ (-)\ (\[[^]]+\])\ \"([^\"]*)\"\ ([0-9]+)\ ([0-9-]+)\ \"([^\"]*)\"\ \"([^\"]*)\"\ ([0-9.]+)$ ]]
  [ "${BASH_REMATCH[1]}" = 127.0.0.1 ]
  [ "${BASH_REMATCH[5]}" = "GET /some/path?x=1&y=two HTTP/1.1" ]
  [ "${BASH_REMATCH[6]}" = 200 ]
  [ "${BASH_REMATCH[7]}" = 14 ]
  [ "${BASH_REMATCH[8]}" = "http://example.com/from" ]
  [ "${BASH_REMATCH[9]}" = "TestAgent/1.0 (bats)" ]
  # the time is now, to the minute (the log is in local time: compare in UTC)
  local t="${BASH_REMATCH[4]}" now
  now="$(date -u +%s)"
  logged="$(date -u -d "$(sed -E 's#\[([0-9]+)/([A-Za-z]+)/([0-9]+):([0-9:]+) (.*)\]#\1 \2 \3 \4 \5#' <<<"$t")" +%s)"
  (( now - logged >= 0 && now - logged < 60 ))
  # the request took well under a second
  [[ "${BASH_REMATCH[10]}" == 0.* ]]
  # a request without Referer and User-Agent, and an empty body
  run http -o /dev/null -H 'User-Agent:' "$(url /empty)" -X HEAD
  wait_line "$SERVER_LOG" "\"HEAD /empty HTTP/1\\.1\" 200 - \"-\" \"-\" $DURATION_RE\$"
}

@test "default: --stdout FILE receives the access log" {
  local out="$BATS_TEST_TMPDIR/stdout.log"
  start_server --processes 1 --stdout "$out" tests.apps.hello:app
  get /to-stdout-file >/dev/null
  wait_line "$out" '"GET /to-stdout-file HTTP/1\.1" 200 14 '
  ! grep -q 'to-stdout-file' "$SERVER_LOG"
}

@test "-l FILE: lines go to FILE, not to stdout" {
  local log="$BATS_TEST_TMPDIR/access.log"
  start_server --processes 2 -l "$log" tests.apps.hello:app
  for i in 1 2 3; do get "/in-file-$i" >/dev/null; done
  wait_count "$log" '"GET /in-file-[123] HTTP/1\.1" 200 14 ' 3
  [ "$(grep -cvE "$LINE_RE" "$log")" -eq 0 ] || { cat "$log"; false; }
  ! grep -q 'in-file' "$SERVER_LOG"
  [ "$(stat -c %a "$log")" = 644 ]
}

@test "--access-log-file=FILE and -l /dev/null: nothing is written anywhere" {
  start_server --processes 1 -l /dev/null tests.apps.hello:app
  for i in 1 2 3; do get "/nowhere-$i" >/dev/null; done
  sleep 0.3
  ! grep -q 'nowhere' "$SERVER_LOG"
  stop_server
  ln -s /dev/null "$BATS_TEST_TMPDIR/null-link"
  start_server --processes 1 --access-log-file="$BATS_TEST_TMPDIR/null-link" tests.apps.hello:app
  get /nowhere-again >/dev/null
  sleep 0.3
  ! grep -q 'nowhere' "$SERVER_LOG"
  [ -L "$BATS_TEST_TMPDIR/null-link" ] && [ -c /dev/null ]
}

@test "--access-log-format: atoms, a request header and a response header" {
  local log="$BATS_TEST_TMPDIR/access.log"
  start_server --processes 1 -l "$log" --access-log-format \
    '%(m)s|%(U)s|%(q)s|%(H)s|%(s)s|%(B)s|%(b)s|%({X-Request-Id}i)s|%({content-type}o)s|%(p)s|%(D)s|%(T)s|%(M)s|%(L)s|%(h)s|%(l)s|%(u)s|%(t)s|%({X-Absent}i)s|100%%' \
    tests.apps.hello:app
  get '/fmt/path?a=b' -H 'X-Request-Id: req-42' >/dev/null
  local re="^GET\\|/fmt/path\\|a=b\\|HTTP/1\\.1\\|200\\|14\\|14\\|req-42\\|text/plain\\|[0-9]+\\|[0-9]+\\|0\\|[0-9]+\\|$DURATION_RE\\|127\\.0\\.0\\.1\\|-\\|-\\|$TIME_RE\\|-\\|100%\$"
  wait_line "$log" "$re"
  local pid
  pid="$(grep -E "$re" "$log" | cut -d'|' -f10)"
  [ "$pid" = "$(child_pids)" ]
}

@test "an unknown atom: exit 2 and one line naming it" {
  require_build
  run "$SPAWNING" --access-log-format '%(h)s %(Q)s' tests.apps.hello:app
  [ "$status" -eq 2 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ "$output" == *"--access-log-format"*"%(Q)s"* ]]
  run "$SPAWNING" --access-log-format '%({X-Id}e)s' tests.apps.hello:app
  [ "$status" -eq 2 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ "$output" == *"%({X-Id}e)s"* ]]
}

@test "requests the server answers itself are logged (400, 505, 408)" {
  local log="$BATS_TEST_TMPDIR/access.log"
  start_server --processes 1 --header-timeout 0.5 -l "$log" tests.apps.hello:app
  run raw 'GARBAGE\r\n\r\n'
  [[ "$output" == "HTTP/1.1 400 "* ]]
  run raw 'GET /v HTTP/9.9\r\nHost: x\r\n\r\n'
  [[ "$output" == "HTTP/1.1 505 "* ]]
  run raw --idle 1 'GET /half HTTP/1.1\r\nHost: x\r\n'
  [[ "$output" == *"408"* ]]
  # a connection that sends nothing is not logged
  "$PY" -c "import socket, time; s = socket.create_connection(('127.0.0.1', $SERVER_PORT)); time.sleep(0.8)"
  wait_line "$log" "^127\\.0\\.0\\.1 - - $TIME_RE \"-\" 400 [0-9]+ \"-\" \"-\" $DURATION_RE\$"
  wait_line "$log" "\"GET /v HTTP/9\\.9\" 505 [0-9]+ "
  wait_line "$log" "\"GET /half HTTP/1\\.1\" 408 [0-9]+ \"-\" \"-\" 0\\.[0-9]{6}\$"
  [ "$(grep -c ' 408 ' "$log")" -eq 1 ]
}

@test "no torn or interleaved lines: 4 processes x 4 threads under load" {
  local log="$BATS_TEST_TMPDIR/access.log" agent
  agent="$(long_agent)"
  start_server --processes 4 --threads 4 -l "$log" tests.apps.hello:app
  wait_ready 4
  "$PY" "$CLIENT" "$SERVER_PORT" /exact 12 150 "$agent" "http://ref.example/" \
    >"$BATS_TEST_TMPDIR/client.out" &
  local client=$!
  run wrk -t2 -c64 -d3s -H "User-Agent: $agent" -H "Referer: http://ref.example/" \
    "$(url '/wrk?x=1')"
  [ "$status" -eq 0 ]
  local answered
  answered="$(awk '/requests in/ {print $1}' <<<"$output")"
  wait "$client"
  local exact
  exact="$(cat "$BATS_TEST_TMPDIR/client.out")"
  [ "$exact" -eq 1800 ]
  stop_server # drains: every child flushes its last lines
  local bad
  bad="$(grep -cvE "$LINE_RE" "$log" || true)"
  [ "$bad" -eq 0 ] || { grep -vE "$LINE_RE" "$log" | head -5 >&2; false; }
  local re_agent="\"http://ref\\.example/\" \"${agent//(/\\(}\""
  re_agent="${re_agent//)/\\)}"
  # wrk's lines: every request it counted, plus at most its 64 in flight at the end
  local wrk_lines
  wrk_lines="$(grep -cE "\"GET /wrk\\?x=1 HTTP/1\\.1\" 200 14 $re_agent " "$log")"
  echo "wrk answered $answered, logged $wrk_lines; client 1800, logged $(grep -c '/exact-' "$log")" >&2
  (( answered > 1000 ))
  (( wrk_lines >= answered && wrk_lines <= answered + 64 ))
  [ "$(grep -cE "\"GET /exact-[0-9]+-[0-9]+\\?n=[0-9]+ HTTP/1\\.1\" 200 14 $re_agent " "$log")" -eq 1800 ]
  # ... and the start-up probes (GET /), whose lines may have been flushed late
  local probes
  probes="$(grep -cE '"GET / HTTP/1\.1" ' "$log" || true)"
  [ "$(grep -c . "$log")" -eq "$((wrk_lines + 1800 + probes))" ]
}

@test "logrotate + SIGUSR1: later requests in the new file, none lost" {
  local dir="$BATS_TEST_TMPDIR" log="$BATS_TEST_TMPDIR/access.log"
  start_server --processes 2 --log-level debug -l "$log" tests.apps.hello:app
  wait_ready 2
  run "$PY" "$CLIENT" "$SERVER_PORT" /before 4 25 "Agent/1"
  [ "$output" -eq 100 ]
  cat >"$dir/logrotate.conf" <<EOF
$log {
    rotate 2
    create 0644
    missingok
    nocompress
    postrotate
        kill -USR1 $SERVER_PID
    endscript
}
EOF
  run logrotate -f -s "$dir/logrotate.state" "$dir/logrotate.conf"
  [ "$status" -eq 0 ] || fail "logrotate: $output"
  [ -f "$log.1" ]
  wait_count "$SERVER_LOG" 'access log .*access\.log reopened' 2
  run "$PY" "$CLIENT" "$SERVER_PORT" /after 4 25 "Agent/1"
  [ "$output" -eq 100 ]
  stop_server
  [ "$(grep -c '"GET /before-' "$log.1")" -eq 100 ]
  [ "$(grep -c '"GET /after-' "$log")" -eq 100 ]
  ! grep -q '"GET /after-' "$log.1"
  ! grep -q '"GET /before-' "$log"
}

@test "spawnctl reopen-logs reopens the access log" {
  local log="$BATS_TEST_TMPDIR/access.log" admin="$BATS_TEST_TMPDIR/admin.sock"
  start_server --processes 2 --log-level debug --admin-socket "$admin" -l "$log" \
    tests.apps.hello:app
  wait_ready 2
  run "$PY" "$CLIENT" "$SERVER_PORT" /before 4 10 "Agent/1"
  [ "$output" -eq 40 ]
  mv "$log" "$log.old"
  run "$SPAWNCTL" --socket "$admin" reopen-logs
  [ "$status" -eq 0 ]
  wait_count "$SERVER_LOG" 'access log .*access\.log reopened' 2
  run "$PY" "$CLIENT" "$SERVER_PORT" /after 4 10 "Agent/1"
  [ "$output" -eq 40 ]
  stop_server
  [ "$(grep -c '"GET /before-' "$log.old")" -eq 40 ]
  [ "$(grep -c '"GET /after-' "$log")" -eq 40 ]
  [ "$(grep -c . "$log")" -eq 40 ]
}

@test "green mode (--threads 0) logs, and reopens" {
  local log="$BATS_TEST_TMPDIR/access.log" admin="$BATS_TEST_TMPDIR/admin.sock"
  start_server --processes 1 --threads 0 --log-level debug --admin-socket "$admin" \
    -l "$log" tests.apps.hello:app
  run "$PY" "$CLIENT" "$SERVER_PORT" /green 8 10 "GreenAgent/1" "http://g/"
  [ "$output" -eq 80 ]
  wait_count "$log" "\"GET /green-[0-9]+-[0-9]+\\?n=[0-9]+ HTTP/1\\.1\" 200 14 \"http://g/\" \"GreenAgent/1\" $DURATION_RE\$" 80
  mv "$log" "$log.old"
  run "$SPAWNCTL" --socket "$admin" reopen-logs
  [ "$status" -eq 0 ]
  wait_count "$SERVER_LOG" 'access log .*access\.log reopened' 1
  get /green-after >/dev/null
  wait_line "$log" '"GET /green-after HTTP/1\.1" 200 14 '
  [ "$(grep -cvE "$LINE_RE" "$log.old")" -eq 0 ]
}

@test "a relative -l is relative to where spawning started, not to --chdir, also on reopen" {
  local dir="$BATS_TEST_TMPDIR" rel
  mkdir -p "$dir/elsewhere"
  rel="$(realpath --relative-to="$SPAWNING_ROOT" "$dir")/rel.log"
  start_server --processes 1 --log-level debug --chdir "$dir/elsewhere" \
    --pythonpath "$SPAWNING_ROOT" -l "$rel" tests.apps.hello:app
  get /relative-1 >/dev/null
  wait_line "$dir/rel.log" '"GET /relative-1 HTTP/1\.1" 200 14 '
  mv "$dir/rel.log" "$dir/rel.log.1"
  kill -USR1 "$SERVER_PID"
  wait_count "$SERVER_LOG" 'access log .*rel\.log reopened' 1
  get /relative-2 >/dev/null
  wait_line "$dir/rel.log" '"GET /relative-2 HTTP/1\.1" 200 14 '
  [ ! -e "$dir/elsewhere/$rel" ]
}

@test "an access log that cannot be opened stops the start with its reason" {
  require_build
  run timeout 20 "$SPAWNING" --port "$(free_port)" --processes 1 \
    -l "$BATS_TEST_TMPDIR/no/such/dir/access.log" tests.apps.hello:app
  [ "$status" -eq 1 ]
  [[ "$output" == *"--access-log-file $BATS_TEST_TMPDIR/no/such/dir/access.log: No such file or directory"* ]]
}
