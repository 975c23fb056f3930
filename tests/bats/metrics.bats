#!/usr/bin/env bats
# /metrics (Prometheus text, parsed by python3-prometheus-client's parser),
# live counters in the status document, connections closed by reason,
# /readyz, and /healthz during a drain. The app (tests/apps/metrics_app.py) answers known statuses and
# sleeps known times, so every number is checked exactly.

bats_require_minimum_version 1.5.0
load helpers

SCRAPE="$BATS_TEST_DIRNAME/metrics_scrape.py"

setup() {
  SPAWNCTL="$SPAWNING_BUILD_DIR/spawnctl"
  STATUS_PORT=$(free_port)
  ADMIN="$BATS_TEST_TMPDIR/admin.sock"
}

teardown() {
  stop_server
}

# replaced READY_LINES N: wait (<= 10 s) until READY_LINES "ready" lines
# were logged and exactly N children are left (the replaced ones exited).
replaced() {
  local i
  for i in $(seq 100); do
    [ "$(ready_count)" -ge "$1" ] && [ "$(child_pids | wc -l)" = "$2" ] && return 0
    sleep 0.1
  done
  fail "not $1 ready lines and $2 children; log: $(cat "$SERVER_LOG")"
}

# scrape: /metrics as a JSON object (see metrics_scrape.py), in $BATS_TEST_TMPDIR/$1.json.
scrape() {
  "$PY" "$SCRAPE" "http://127.0.0.1:$STATUS_PORT/metrics" >"$BATS_TEST_TMPDIR/$1.json"
}

# m FILE KEY: the value of sample KEY in scrape FILE, as an integer when whole.
m() {
  "$PY" -c 'import json, sys
v = json.load(open(sys.argv[1]))[sys.argv[2]]
print(int(v) if v == int(v) else v)' "$BATS_TEST_TMPDIR/$1.json" "$2"
}

# known_requests: 10 GET /ok, 4 GET 404s, 3 GET 500s, 3 GET /sleep (0.2 s),
# 2 HEAD /ok, 1 POST /ok: 23 requests; 16 2xx, 4 4xx, 3 5xx.
known_requests() {
  local i
  for i in $(seq 10); do get /ok >/dev/null; done
  for i in $(seq 4); do get /missing >/dev/null; done
  for i in $(seq 3); do get /fail >/dev/null; done
  for i in $(seq 3); do get /sleep >/dev/null; done
  for i in $(seq 2); do get /ok -I >/dev/null; done
  get /ok -d 'x=1' >/dev/null
}

# check_known_counts BASE FILE: scrape FILE has known_requests more than
# scrape BASE (taken after start-up, whose wait for the server asked for /).
check_known_counts() {
  "$PY" -c 'import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
def d(k):
    return b[k] - a[k]
want = {"spawning_requests_total{method=GET}": 20, "spawning_requests_total{method=HEAD}": 2,
        "spawning_requests_total{method=POST}": 1, "spawning_requests_total{method=other}": 0,
        "spawning_responses_total{status=2xx}": 16, "spawning_responses_total{status=4xx}": 4,
        "spawning_responses_total{status=5xx}": 3, "spawning_responses_total{status=3xx}": 0,
        "spawning_request_duration_seconds_count": 23, "spawning_request_queue_seconds_count": 23}
for k, v in want.items():
    assert d(k) == v, "%s: %s more, want %s" % (k, d(k), v)
# The three sleepers are above 0.1 s, and (with room for a busy machine) under 0.5 s.
fast = d("spawning_request_duration_seconds_bucket{le=0.1}")
slow = d("spawning_request_duration_seconds_bucket{le=0.5}")
assert fast <= 20, "%s requests under 0.1 s: a sleeper among them" % fast
assert slow - fast >= 3, "the sleepers are not in (0.1, 0.5]: %s, %s" % (fast, slow)
assert d("spawning_request_duration_seconds_sum") >= 0.6, d("spawning_request_duration_seconds_sum")
assert d("spawning_received_bytes_total") >= 23 * 40, d("spawning_received_bytes_total")
assert d("spawning_sent_bytes_total") >= 23 * 60, d("spawning_sent_bytes_total")' \
    "$BATS_TEST_TMPDIR/$1.json" "$BATS_TEST_TMPDIR/$2.json"
}

@test "/metrics: known requests by method, status class and duration, 2 processes, threaded" {
  start_server --processes 2 --threads 4 --status-port "$STATUS_PORT" --admin-socket none tests.apps.metrics_app:app
  wait_ready 2
  scrape base
  known_requests
  scrape a
  check_known_counts base a
  # Per child: memory, CPU, age and requests, labelled by pid; they add up.
  local pids total=0 p
  pids=$(child_pids)
  for p in $pids; do
    [ "$(m a "spawning_child_resident_memory_bytes{generation=1,pid=$p}")" -gt 1000000 ]
    m a "spawning_child_cpu_seconds_total{generation=1,pid=$p}" >/dev/null
    m a "spawning_child_age_seconds{generation=1,pid=$p}" >/dev/null
    total=$((total + $(m a "spawning_child_requests_total{generation=1,pid=$p}")))
  done
  [ "$total" = "$(m a 'spawning_request_duration_seconds_count')" ]
  [ "$(m a spawning_children_ready)" = 2 ]
  [ "$(m a spawning_threads_configured)" = 8 ]
  [ "$(m a spawning_requests_in_flight)" = 0 ]
  [ "$(curl -s -o /dev/null -w '%{content_type}' "http://127.0.0.1:$STATUS_PORT/metrics")" = "text/plain; version=0.0.4; charset=utf-8" ]
}

@test "/metrics: the same counts in green mode and with --threads 1" {
  # greenlet copies stacks with memcpy, which ASan reports in greenlet
  # itself: off for the green server only, as in green.bats.
  local asan="${ASAN_OPTIONS:-}"
  [[ "${SPAWNING_BUILD:-}" == *asan* ]] && export ASAN_OPTIONS="${asan:+$asan:}replace_intrin=0"
  start_server --processes 1 --threads 0 --status-port "$STATUS_PORT" --admin-socket none tests.apps.metrics_app:app
  wait_ready 1
  scrape base
  known_requests
  scrape green
  check_known_counts base green
  stop_server
  export ASAN_OPTIONS="$asan"
  STATUS_PORT=$(free_port)
  start_server --processes 1 --threads 1 --status-port "$STATUS_PORT" --admin-socket none tests.apps.metrics_app:app
  wait_ready 1
  scrape base
  known_requests
  scrape t1
  check_known_counts base t1
}

@test "/metrics: in flight, busy threads and connections while requests run" {
  start_server --processes 1 --threads 4 --status-port "$STATUS_PORT" --admin-socket none tests.apps.metrics_app:app
  wait_ready 1
  get '/long?s=2' >/dev/null &
  local c1=$!
  get '/long?s=2' >/dev/null &
  local c2=$!
  sleep 0.7
  scrape busy
  [ "$(m busy spawning_requests_in_flight)" = 2 ]
  [ "$(m busy spawning_threads_busy)" = 2 ]
  [ "$(m busy spawning_connections_open)" -ge 2 ]
  wait "$c1" "$c2"
  scrape after
  [ "$(m after spawning_requests_in_flight)" = 0 ]
  [ "$(m after spawning_threads_busy)" = 0 ]
}

# Every counter of scrape $2 is at least what it was in scrape $1 (the
# per-child ones excepted: those children are gone).
check_not_backwards() {
  "$PY" -c 'import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for k, v in a.items():
    if k.startswith("spawning_child_") and "pid=" in k:
        continue
    if k.endswith(("_total", "_bucket", "_count", "_sum")) or "_total{" in k or "_bucket{" in k:
        assert b.get(k, -1) >= v, "%s went from %s to %s" % (k, v, b.get(k))' \
    "$BATS_TEST_TMPDIR/$1.json" "$BATS_TEST_TMPDIR/$2.json"
}

@test "/metrics: totals never go backwards when spawnctl reload and SIGHUP replace the children" {
  start_server --processes 2 --status-port "$STATUS_PORT" --admin-socket "$ADMIN" tests.apps.metrics_app:app
  wait_ready 2
  scrape base
  known_requests
  scrape before
  "$SPAWNCTL" --socket "$ADMIN" reload
  replaced 4 2
  scrape reloaded
  check_not_backwards before reloaded
  check_known_counts base reloaded # the same numbers: the gone children's are kept exactly
  [ "$(m reloaded 'spawning_reloads_total{cause=spawnctl,result=ok}')" = 1 ]
  known_requests
  kill -HUP "$SERVER_PID"
  replaced 6 2
  scrape hup
  check_not_backwards reloaded hup
  check_known_counts reloaded hup
  [ "$(m hup 'spawning_reloads_total{cause=signal,result=ok}')" = 1 ]
}

@test "/metrics: a child killed with SIGKILL counts as a crash restart" {
  start_server --processes 1 --status-port "$STATUS_PORT" --admin-socket none tests.apps.metrics_app:app
  wait_ready 1
  get /ok >/dev/null
  scrape served
  kill -KILL "$(child_pids | head -1)"
  replaced 2 1
  scrape crashed
  [ "$(m crashed 'spawning_child_restarts_total{cause=crash}')" = 1 ]
  [ "$(m crashed 'spawning_child_restarts_total{cause=heartbeat}')" = 0 ]
  [ "$(m crashed 'spawning_requests_total{method=GET}')" = "$(m served 'spawning_requests_total{method=GET}')" ]
}

@test "status: requests answered a moment ago are counted (no heartbeat needed), latency percentiles" {
  start_server --processes 1 --status-port "$STATUS_PORT" --admin-socket "$ADMIN" tests.apps.metrics_app:app
  wait_ready 1
  local i before after
  # Heartbeats come once a second: five answers each seen at once in the
  # status (well under 100 ms later) cannot all be a heartbeat's luck.
  for i in $(seq 5); do
    before=$(curl -s "http://127.0.0.1:$STATUS_PORT/status.json" | pyq 'd["requests"]')
    get /ok >/dev/null
    after=$(curl -s "http://127.0.0.1:$STATUS_PORT/status.json" | pyq 'd["requests"]')
    [ "$after" = "$((before + 1))" ] || fail "status showed $after after request $((before + 1))"
  done
  before=$("$SPAWNCTL" --socket "$ADMIN" status --json | pyq 'd["requests"]')
  get /sleep >/dev/null
  run "$SPAWNCTL" --socket "$ADMIN" status --json
  [ "$(pyq 'd["requests"]' <<<"$output")" = "$((before + 1))" ]
  # Start-up's wait asked for / once (a 404): 5 /ok and 1 /sleep since.
  [ "$(pyq 'd["responses_by_status"]["2xx"]' <<<"$output")" = 6 ]
  [ "$(pyq 'd["requests_by_method"]["GET"]' <<<"$output")" = "$((before + 1))" ]
  [ "$(pyq 'd["latency"]["count"]' <<<"$output")" = "$((before + 1))" ]
  # p99 of the fast requests and one of 0.2 s lies in the sleeper's bucket.
  [ "$(pyq '0.1 < d["latency"]["p99"] <= 0.5' <<<"$output")" = true ]
  [ "$(pyq 'd["latency"]["p50"] < 0.1' <<<"$output")" = true ]
  [ "$(pyq 'd["threads"]["configured"]' <<<"$output")" = 4 ]
  [ "$(pyq 'list(d["children"].values())[0]["requests"]' <<<"$output")" = "$((before + 1))" ]
  run "$SPAWNCTL" --socket "$ADMIN" status
  [ "$status" -eq 0 ]
  [[ "$output" =~ "latency     p50 "[0-9.]+" ms, p90 "[0-9.]+" ms, p99 "[0-9.]+" ms" ]] || fail "$output"
  [[ "$output" == *"busy        0 of 4 threads, "* ]] || fail "$output"
}

@test "/readyz: JSON detail; /healthz and /readyz 503 during a TERM drain kept going by a long request" {
  start_server --processes 2 --status-port "$STATUS_PORT" --admin-socket none --graceful-timeout 10 tests.apps.metrics_app:app
  wait_ready 2
  run curl -s -w '\n%{http_code}' "http://127.0.0.1:$STATUS_PORT/readyz"
  [ "${lines[1]}" = 200 ]
  [ "$(pyq 'd["ready"], d["stopping"], d["children_ready"], d["children_desired"], d["generation"]' <<<"${lines[0]}")" = '[true, false, 2, 2, 1]' ]
  get '/long?s=2.5' >"$BATS_TEST_TMPDIR/long.out" &
  local client=$!
  sleep 0.5
  kill -TERM "$SERVER_PID"
  sleep 0.3
  proc_alive "$SERVER_PID" || fail "the controller did not wait for the long request"
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$STATUS_PORT/healthz")" = 503 ]
  run curl -s -w '\n%{http_code}' "http://127.0.0.1:$STATUS_PORT/readyz"
  [ "${lines[1]}" = 503 ]
  [ "$(pyq 'd["ready"], d["stopping"]' <<<"${lines[0]}")" = '[false, true]' ]
  wait "$client"
  [ "$(cat "$BATS_TEST_TMPDIR/long.out")" = done ]
  wait_exit "$SERVER_PID" 5
  [ "$EXIT_STATUS" = 0 ]
}

@test "/metrics: restarts for missed heartbeats and --max-requests, a failed reload" {
  start_server --processes 1 --deadman-timeout 2 --max-requests 5 --status-port "$STATUS_PORT" --admin-socket none tests.apps.metrics_app:app
  wait_ready 1
  local i
  for i in $(seq 6); do get /ok >/dev/null; done
  replaced 2 1
  kill -STOP "$(child_pids | head -1)"
  replaced 3 1
  scrape restarts
  [ "$(m restarts 'spawning_child_restarts_total{cause=max-requests}')" = 1 ]
  [ "$(m restarts 'spawning_child_restarts_total{cause=heartbeat}')" = 1 ]
  [ "$(m restarts 'spawning_child_restarts_total{cause=crash}')" = 0 ]
  stop_server
  # A deploy that cannot import: the reload fails, the old code serves on.
  local app="$BATS_TEST_TMPDIR/app"
  mkdir -p "$app"
  printf 'def app(e, s):\n    s("200 OK", [])\n    return [b"old\\n"]\n' >"$app/deployed.py"
  STATUS_PORT=$(free_port)
  start_server --processes 1 --status-port "$STATUS_PORT" --admin-socket none --chdir "$app" deployed:app
  printf 'import nosuchdependency\n' >"$app/deployed.py"
  rm -rf "$app/__pycache__"
  kill -HUP "$SERVER_PID"
  for i in $(seq 50); do grep -q "reload failed" "$SERVER_LOG" && break; sleep 0.1; done
  scrape failed
  [ "$(m failed 'spawning_reloads_total{cause=signal,result=failed}')" = 1 ]
  [ "$(m failed 'spawning_reloads_total{cause=signal,result=ok}')" = 0 ]
  [ "$(m failed 'spawning_child_restarts_total{cause=crash}')" = 0 ]
}

# The options known_closes needs (short timeouts, a small field limit).
CLOSE_OPTS=(--header-timeout 1 --keepalive 1 --limit-request-field-size 100)

# known_closes: one client connection closed for each of several reasons,
# 8 in all (KNOWN_CLOSES); every other reason: none.
KNOWN_CLOSES='{"malformed": 1, "too_large": 1, "client_closed": 2, "client_gone": 1,
               "header_timeout": 1, "idle": 1, "finished": 1}'
known_closes() {
  run raw --json 'GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n'
  expect_eq 'str(d["responses"][0]["status"])' 400 # malformed
  run raw --json "GET / HTTP/1.1\r\nHost: x\r\nX-Big: $(printf '%0200d' 0)\r\n\r\n"
  expect_eq 'str(d["responses"][0]["status"])' 431 # too_large
  run raw --json 'GET / HTTP/1.1\r\n'
  expect_eq 'str(d["responses"][0]["status"])' 408 # header_timeout, after --header-timeout 1
  run raw --json --idle 5 'GET /ok HTTP/1.1\r\nHost: x\r\n\r\n'
  expect_eq 'str(d["closed"])' True # idle: the server closed it after --keepalive 1
  run raw --json 'GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
  expect_eq 'str(d["responses"][0]["status"])' 200 # finished
  # client_closed: a keep-alive connection the client closes after two requests
  run raw --json 'GET /ok HTTP/1.1\r\nHost: x\r\n\r\n' 'GET /ok HTTP/1.1\r\nHost: x\r\n\r\n'
  expect_eq 'str(len(d["responses"]))' 2
  # client_closed: connected and closed without a byte; client_gone: gone mid-head
  "$PY" -c 'import socket, sys
addr = ("127.0.0.1", int(sys.argv[1]))
socket.create_connection(addr).close()
s = socket.create_connection(addr)
s.sendall(b"GET / HTTP/1.1\r\nHo")
s.close()' "$SERVER_PORT"
}

# closes_counted BASE NAME N: scrape into NAME until N more connections
# closed than in scrape BASE and none is open (<= 10 s).
closes_counted() {
  local i
  for i in $(seq 100); do
    scrape "$2"
    "$PY" -c 'import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
k = [x for x in b if x.startswith("spawning_connections_closed_total{")]
sys.exit(sum(b[x] - a[x] for x in k) < int(sys.argv[3]) or b["spawning_connections_open"] != 0)' \
      "$BATS_TEST_TMPDIR/$1.json" "$BATS_TEST_TMPDIR/$2.json" "$3" && return 0
    sleep 0.1
  done
  fail "not $3 closes since scrape $1: $(grep -o '"spawning_connections_closed_total[^,]*' "$BATS_TEST_TMPDIR/$2.json")"
}

# check_close_deltas BASE NAME WANT: scrape NAME counts exactly the closes
# of the JSON object WANT ({"reason": n}) more than scrape BASE, by
# reason, and no other; every reason is there, in both.
check_close_deltas() {
  "$PY" -c 'import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
want = json.loads(sys.argv[3])
reasons = ["none", "finished", "idle", "draining", "client_closed", "client_gone", "malformed",
           "too_large", "proxy_refused", "header_timeout", "body_timeout", "send_timeout",
           "request_timeout", "unread_body", "out_of_memory", "app_error", "tls_failed", "not_tls"]
k = lambda r: "spawning_connections_closed_total{reason=%s}" % r
got = sorted(x for x in b if x.startswith("spawning_connections_closed_total"))
assert got == sorted(map(k, reasons)), got
for r in reasons:
    d = b[k(r)] - a[k(r)]
    assert d == want.get(r, 0), "%s: %s more, want %s" % (r, d, want.get(r, 0))' \
    "$BATS_TEST_TMPDIR/$1.json" "$BATS_TEST_TMPDIR/$2.json" "$3"
}

# known_closes_counted: known_closes, checked in /metrics.
known_closes_counted() {
  closes_counted start base 0
  known_closes
  closes_counted base closed 8
  check_close_deltas base closed "$KNOWN_CLOSES"
}

@test "/metrics: connections closed by reason, threaded (2 processes); the same in status.json and /status" {
  start_server --processes 2 --threads 4 "${CLOSE_OPTS[@]}" --status-port "$STATUS_PORT" --admin-socket none tests.apps.metrics_app:app
  wait_ready 2
  scrape start
  known_closes_counted
  # The status document has the same numbers, every reason among them.
  run curl -s "http://127.0.0.1:$STATUS_PORT/status.json"
  "$PY" -c 'import json, sys
m, doc = json.load(open(sys.argv[1])), json.loads(sys.argv[2])
closed = doc["connections"]["closed"]
assert len(closed) == 18, closed
for r, n in closed.items():
    assert m["spawning_connections_closed_total{reason=%s}" % r] == n, (r, n)' \
    "$BATS_TEST_TMPDIR/closed.json" "$output"
  # The page lists the reasons that happened (start-up's closes are others).
  run curl -s "http://127.0.0.1:$STATUS_PORT/status"
  [[ "$output" =~ "<th>Connections closed</th><td>"[^\<]*"idle 1, "[^\<]*"malformed 1, too_large 1, header_timeout 1</td>" ]] ||
    fail "$(grep 'Connections closed' <<<"$output")"
}

@test "/metrics: connections closed by reason in green mode" {
  local asan="${ASAN_OPTIONS:-}"
  [[ "${SPAWNING_BUILD:-}" == *asan* ]] && export ASAN_OPTIONS="${asan:+$asan:}replace_intrin=0"
  start_server --processes 1 --threads 0 "${CLOSE_OPTS[@]}" --status-port "$STATUS_PORT" --admin-socket none tests.apps.metrics_app:app
  wait_ready 1
  scrape start
  known_closes_counted
}

@test "/metrics: closes by reason survive SIGHUP and a crashed child" {
  start_server --processes 1 "${CLOSE_OPTS[@]}" --status-port "$STATUS_PORT" --admin-socket none tests.apps.metrics_app:app
  wait_ready 1
  scrape start
  known_closes_counted
  kill -HUP "$SERVER_PID"
  replaced 2 1
  scrape reloaded
  check_close_deltas base reloaded "$KNOWN_CLOSES" # the gone child's, exactly
  known_closes
  closes_counted reloaded again 8
  check_close_deltas reloaded again "$KNOWN_CLOSES"
  kill -KILL "$(child_pids | head -1)"
  replaced 3 1
  scrape crashed
  check_close_deltas again crashed '{}'
}
