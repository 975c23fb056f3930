# Shared helpers for the Spawning bats suite.  Load with `load helpers`.
#
# Every server is started from the repo root with its stdout+stderr in a log
# file, on a free port, tagged with SPAWNING_TEST_TAG in its environment so
# that teardown can find (and kill) every spawning_child it started, even
# after the controller is gone.
#
# Globals set by start_server (exported, so they survive setup_file):
#   SERVER_PID   pid of the controller
#   SERVER_PORT  its TCP port on 127.0.0.1
#   SERVER_LOG   file with its stdout+stderr
#   SERVER_TAG   value of SPAWNING_TEST_TAG in its environment

SPAWNING_ROOT="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
SPAWNING_BUILD="${SPAWNING_BUILD:-build}"
case "$SPAWNING_BUILD" in
  /*) SPAWNING_BUILD_DIR="$SPAWNING_BUILD" ;;
  *) SPAWNING_BUILD_DIR="$SPAWNING_ROOT/$SPAWNING_BUILD" ;;
esac
SPAWNING="$SPAWNING_BUILD_DIR/spawning"
PY=/usr/bin/python3
RAWHTTP="$BATS_TEST_DIRNAME/rawhttp.py"
PYQ="$BATS_TEST_DIRNAME/pyq.py"
export SPAWNING_ROOT SPAWNING_BUILD_DIR SPAWNING PY RAWHTTP PYQ

# A backstop: no single test may hang the suite.
: "${BATS_TEST_TIMEOUT:=60}"
export BATS_TEST_TIMEOUT

# Curl never goes through a proxy and never waits for 100-continue.
CURL=(curl -sS --noproxy '*' --max-time 10 -H 'Expect:')

require_build() {
  if [[ ! -x "$SPAWNING" ]]; then
    echo "missing $SPAWNING: run make (or set SPAWNING_BUILD)" >&2
    return 1
  fi
}

# free_port: print a TCP port that was free a moment ago.
free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

_tmpdir() {
  echo "${BATS_TEST_TMPDIR:-${BATS_FILE_TMPDIR:-/tmp}}"
}

# proc_alive PID: true if PID exists and is not a zombie.
proc_alive() {
  local pid="$1" stat
  stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  [[ "${stat:0:1}" != Z ]]
}

# tagged_pids TAG: pids of live processes whose environment holds
# SPAWNING_TEST_TAG=TAG (the controller and every child it started).
tagged_pids() {
  local tag="$1" f pid
  for f in $(grep -slzx -- "SPAWNING_TEST_TAG=$tag" /proc/[0-9]*/environ 2>/dev/null); do
    pid="${f#/proc/}"; pid="${pid%/environ}"
    [[ "$pid" != "$BASHPID" ]] && proc_alive "$pid" && echo "$pid"
  done
  return 0
}

# child_pids [PID]: live direct children of the controller (default SERVER_PID).
child_pids() {
  local p
  for p in $(pgrep -P "${1:-$SERVER_PID}" 2>/dev/null); do
    proc_alive "$p" && echo "$p"
  done
  return 0
}

# launch_server ARGS...: start `spawning ARGS...` in the background from the
# repo root without adding any option.  Sets SERVER_PID/LOG/TAG; does not
# wait.  SERVER_PORT is left to the caller.
launch_server() {
  require_build || return 1
  SERVER_TAG="$$-$RANDOM-$RANDOM"
  SERVER_LOG="$(_tmpdir)/server-$SERVER_TAG.log"
  : >"$SERVER_LOG"
  # 3>&- : bats must not wait for the server to close its output pipe.
  (cd "$SPAWNING_ROOT" && SPAWNING_TEST_TAG="$SERVER_TAG" exec "$SPAWNING" "$@" \
      </dev/null >"$SERVER_LOG" 2>&1 3>&- 4>&-) &
  SERVER_PID=$!
  export SERVER_PID SERVER_LOG SERVER_TAG
  echo "$SERVER_TAG" >>"$(_tmpdir)/.spawning-tags"
}

# launch_server_via CMD ARGS...: like launch_server, for a command that
# ends up exec'ing spawning itself (a wrapper such as systemd-socket-activate,
# or a script that hands it a socket), so SERVER_PID is the controller.
launch_server_via() {
  require_build || return 1
  SERVER_TAG="$$-$RANDOM-$RANDOM"
  SERVER_LOG="$(_tmpdir)/server-$SERVER_TAG.log"
  : >"$SERVER_LOG"
  (cd "$SPAWNING_ROOT" && SPAWNING_TEST_TAG="$SERVER_TAG" exec "$@" \
      </dev/null >"$SERVER_LOG" 2>&1 3>&- 4>&-) &
  SERVER_PID=$!
  export SERVER_PID SERVER_LOG SERVER_TAG
  echo "$SERVER_TAG" >>"$(_tmpdir)/.spawning-tags"
}

# start_server ARGS...: launch `spawning --host 127.0.0.1 --port FREE ARGS...`
# and wait (<= 10 s) until an HTTP request to / gets any answer.  Fails,
# showing the log, if the server dies or never answers.
start_server() {
  SERVER_PORT="$(free_port)"
  export SERVER_PORT
  launch_server --host 127.0.0.1 --port "$SERVER_PORT" "$@" || return 1
  wait_http "$SERVER_PORT"
}

# start_server_port PORT ARGS...: like start_server, but the caller chose
# the port and passes the host/port options itself (for option-form tests).
start_server_port() {
  SERVER_PORT="$1"; shift
  export SERVER_PORT
  launch_server "$@" || return 1
  wait_http "$SERVER_PORT"
}

# wait_http PORT [PATH]: wait up to 10 s for any HTTP answer.
wait_http() {
  local port="$1" path="${2:-/}" i
  for ((i = 0; i < 100; i++)); do
    if ! proc_alive "$SERVER_PID"; then
      echo "server exited before answering; log:" >&2
      cat "$SERVER_LOG" >&2
      return 1
    fi
    if curl -s --noproxy '*' --max-time 1 -o /dev/null "http://127.0.0.1:$port$path"; then
      return 0
    fi
    sleep 0.1
  done
  echo "server did not answer on port $port within 10 s; log:" >&2
  cat "$SERVER_LOG" >&2
  return 1
}

# ready_count: number of "child PID ready" lines in the log so far.
ready_count() {
  grep -cE '\[INFO\] child [0-9]+ ready' "$SERVER_LOG" || true
}

# wait_ready N [SECONDS]: wait until N children are alive and N (or more)
# "ready" lines were logged.
wait_ready() {
  local n="$1" secs="${2:-10}" i
  for ((i = 0; i < secs * 10; i++)); do
    if [[ "$(ready_count)" -ge "$n" && "$(child_pids | wc -l)" -ge "$n" ]]; then
      return 0
    fi
    sleep 0.1
  done
  echo "expected $n ready children; log:" >&2
  cat "$SERVER_LOG" >&2
  return 1
}

# wait_exit PID SECONDS: wait until PID is gone (or a zombie).  Sets
# EXIT_STATUS to its exit code when PID is a child of this shell, else to
# "unknown".  Returns 1 if it is still running after SECONDS.
wait_exit() {
  local pid="$1" secs="$2" i
  EXIT_STATUS=unknown
  for ((i = 0; i < secs * 20; i++)); do
    if ! proc_alive "$pid"; then
      if wait "$pid" 2>/dev/null; then EXIT_STATUS=0; else EXIT_STATUS=$?; fi
      # `wait` on a pid that is not our child returns 127
      [[ "$EXIT_STATUS" == 127 ]] && EXIT_STATUS=unknown
      return 0
    fi
    sleep 0.05
  done
  return 1
}

# stop_server: SIGTERM the controller, SIGKILL after 5 s, then SIGKILL any
# process still carrying its tag (stray children).  Safe to call twice.
stop_server() {
  local pid="${SERVER_PID:-}" tag="${SERVER_TAG:-}" p
  if [[ -n "$pid" ]] && proc_alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_exit "$pid" 5; then
      kill -KILL "$pid" 2>/dev/null || true
      wait_exit "$pid" 2 || true
    fi
  fi
  if [[ -n "$tag" ]]; then
    for p in $(tagged_pids "$tag"); do
      kill -KILL "$p" 2>/dev/null || true
    done
  fi
  assert_no_sanitizer_report
}

# assert_no_sanitizer_report [LOG]: under the ASan/UBSan build, any report
# in the server log fails the test (also called by stop_server).
assert_no_sanitizer_report() {
  local log="${1:-${SERVER_LOG:-}}"
  [[ -n "$log" && -f "$log" ]] || return 0
  if grep -nE 'ERROR: (Address|Leak|Thread|Memory)Sanitizer|SUMMARY: (Address|Leak|Undefined)|runtime error: ' "$log" >&2; then
    echo "sanitizer report in $log" >&2
    show_log
    return 1
  fi
  return 0
}

# assert_close_reasons: against a server started (by this test) with
# --log-level debug --header-timeout 1 --keepalive 1 --body-timeout 1 on
# tests.apps.http_app:app, makes a connection end for each of several
# reasons, stops the server, and checks that its log names every reason
# (chd_close_reason_name) and still has the 400's usual line.
assert_close_reasons() {
  local reason
  raw 'GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n' >/dev/null || true
  raw 'GET / HTTP/1.1\r\n' >/dev/null || true
  raw 'POST /echo-body HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\nhel' \
    >/dev/null || true
  raw 'GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >/dev/null
  raw --idle 3 'GET /hello HTTP/1.1\r\nHost: x\r\n\r\n' >/dev/null
  stop_server
  for reason in malformed header_timeout body_timeout finished idle client_closed; do
    grep -q ": connection closed ($reason)\$" "$SERVER_LOG" ||
      { fail "no connection closed with reason $reason"; return 1; }
  done
  grep -q "127.0.0.1:[0-9]*: 400 invalid character in header\$" "$SERVER_LOG" ||
    { fail "the 400's log line changed"; return 1; }
}

# kill_all_tagged: kill every process started by this file (all tags), used
# by teardown_file as a last resort.
kill_all_tagged() {
  local tags="$(_tmpdir)/.spawning-tags" tag p
  [[ -f "$tags" ]] || return 0
  while read -r tag; do
    for p in $(tagged_pids "$tag"); do
      kill -KILL "$p" 2>/dev/null || true
    done
  done <"$tags"
  return 0
}

# show_log: print the server log (for failing assertions).
show_log() {
  echo "---- server log ($SERVER_LOG) ----" >&2
  cat "$SERVER_LOG" >&2 2>/dev/null || true
  echo "----" >&2
}

# url PATH: the full URL of PATH on the current server.
url() {
  echo "http://127.0.0.1:$SERVER_PORT$1"
}

# http ARGS... : curl with the suite's defaults (10 s max, no proxy).
http() {
  "${CURL[@]}" "$@"
}

# get PATH [CURL ARGS...]: body of GET PATH.
get() {
  local path="$1"; shift
  "${CURL[@]}" "$@" "$(url "$path")"
}

# raw ARGS...: rawhttp.py against the current server (see rawhttp.py).
raw() {
  "$PY" "$RAWHTTP" "$SERVER_PORT" "$@"
}

# pyq EXPR: evaluate EXPR on the JSON document on stdin (see pyq.py).
pyq() {
  "$PY" "$PYQ" "$1"
}

# header NAME: value of header NAME in a `curl -i`/-D dump on stdin
# (first occurrence, CR stripped, case-insensitive).
header() {
  tr -d '\r' | awk -v n="$(echo "$1" | tr 'A-Z' 'a-z')" -F': ' \
    'tolower($1) == n { sub(/^[^:]*: */, ""); print; exit }'
}

# fail MSG: fail the test with MSG and the server log.
fail() {
  echo "$*" >&2
  show_log
  return 1
}

# assert_no_validator_errors: the log holds no wsgiref.validate complaint or
# other Python traceback (for files whose apps must never raise).
assert_log_clean() {
  if grep -nE 'Traceback|AssertionError|WSGIWarning|garbage collected without being closed' "$SERVER_LOG"; then
    fail "unexpected Python error in the server log"
  fi
  assert_no_sanitizer_report
}

# expect_eq EXPR WANT: on the JSON in $output (see pyq.py), the Python
# value of EXPR equals WANT, where WANT uses Python backslash escapes
# ('chunk-1\n'); exact, trailing newlines included.
expect_eq() {
  local got
  got="$(WANT="$2" pyq "'OK' if ($1) == __import__('codecs').escape_decode(__import__('os').environ['WANT'].encode('latin-1'))[0].decode('latin-1') else 'got ' + ascii($1)" <<<"$output")"
  [[ "$got" == OK ]] || { echo "expected $1 == '$2', $got" >&2; return 1; }
}

# A file's shared server: start_file_server ARGS... in setup_file;
# stop_own_server in teardown (stops a server a test started for itself);
# stop_file_server in teardown_file.
start_file_server() {
  start_server "$@" || return 1
  export FILE_SERVER_PID="$SERVER_PID"
}

stop_own_server() {
  [[ "$SERVER_PID" == "$FILE_SERVER_PID" ]] || stop_server
}

stop_file_server() {
  local rc=0
  stop_server || rc=$?
  kill_all_tagged
  return "$rc"
}
