#!/usr/bin/env bats
# The status page's traffic section (rate chart, latency, saturation, memory
# trends) in a real browser, and `spawnctl top`.

load helpers

SPAWNCTL="$SPAWNING_BUILD_DIR/spawnctl"

setup_file() {
  ADMIN="$BATS_FILE_TMPDIR/admin.sock"
  STATUS_PORT=$(free_port)
  export ADMIN STATUS_PORT
  start_file_server --processes 2 --threads 2 --admin-socket "$ADMIN" \
    --status-port "$STATUS_PORT" tests.apps.hello:app
  wait_ready 2
  # Traffic over two history steps (5 s each), so the chart has points.
  for ((i = 0; i < 12; i++)); do
    for ((j = 0; j < 20; j++)); do http -s -o /dev/null "$(url /)"; done
    sleep 1
  done
}

teardown_file() {
  stop_file_server
  kill_all_tagged
}

status_url() {
  echo "http://127.0.0.1:$STATUS_PORT$1"
}

@test "status document: the rate's history and each child's memory trend" {
  run http -s "$(status_url /status.json)"
  [ "$status" -eq 0 ]
  expect_eq "str(d['history']['step_seconds'])" 5.0
  expect_eq "str(len(d['history']['requests_per_second']) >= 2)" True
  expect_eq "str(max(d['history']['requests_per_second']) > 0)" True
  expect_eq "str(all(len(c['memory_trend']) >= 2 for c in d['children'].values()))" True
  expect_eq "str(all(min(c['memory_trend']) > 1000000 for c in d['children'].values()))" True
}

@test "status page: the rate chart and the memory sparklines are inline SVG with points" {
  run http -s "$(status_url /status)"
  [ "$status" -eq 0 ]
  [[ "$output" == *'<h2>Traffic</h2>'* ]]
  [[ "$output" == *'<svg class="chart rate"'*'<polyline'*'points="0.0,'* ]]
  [[ "$output" == *'<svg class="spark memory"'*'<polyline'* ]]
  [[ "$output" == *'<th>Latency p99</th>'* ]]
  [[ "$output" != *'src="http'* && "$output" != *'<script'* ]]
}

@test "status page in headless Chromium: rendered chart, latency rows and memory trends" {
  command -v chromium >/dev/null || skip "chromium is not installed (tests/install-deps.sh installs it)"
  local dir="$BATS_TEST_TMPDIR" url
  url="$(status_url /status)"
  run timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --user-data-dir="$dir/profile" --dump-dom "$url"
  [ "$status" -eq 0 ]
  # What the browser parsed, not just what we sent.
  [[ "$output" == *'<svg class="chart rate"'* ]]
  [[ "$(grep -o '<svg class="spark memory"' <<<"$output" | wc -l)" -eq 2 ]]
  [[ "$output" == *'Latency p50'*'Latency p90'*'Latency p99'* ]]
  [[ "$output" == *'Threads busy'* ]]
  # Painted, not only parsed: the chart's line (#1565c0) and area (#bbdefb).
  # A loaded machine can make Chromium shoot before it paints: up to 3 tries.
  local try line=0 width height
  for try in 1 2 3; do
    rm -f "$dir/status.png"
    timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
      --user-data-dir="$dir/profile" --hide-scrollbars --window-size=1000,1400 \
      --run-all-compositor-stages-before-draw --virtual-time-budget=3000 \
      --screenshot="$dir/status.png" "$url" >/dev/null 2>&1 || true
    [ -s "$dir/status.png" ] || continue
    read -r width height line < <("$PY" "$BATS_TEST_DIRNAME/pngcolor.py" "$dir/status.png" 1565c0 30)
    [ "$line" -gt 100 ] && break
  done
  cp "$dir/status.png" "$SPAWNING_BUILD_DIR/status-page.png" 2>/dev/null || true
  [ "$width" -eq 1000 ]
  [ "$line" -gt 100 ] || { echo "only $line pixels of the chart's line" >&2; return 1; }
  read -r width height area < <("$PY" "$BATS_TEST_DIRNAME/pngcolor.py" "$dir/status.png" bbdefb 12)
  [ "$area" -gt 2000 ] || { echo "only $area pixels of the chart's area" >&2; return 1; }
}

@test "spawnctl top: frames with the rate, latency, threads and every child" {
  run "$SPAWNCTL" --socket "$ADMIN" top --count 2 --interval 0.2
  [ "$status" -eq 0 ]
  [ "$(grep -c '^spawnctl top - ' <<<"$output")" -eq 2 ]
  [[ "$output" == *"rate       "* && "$output" != *"(collecting data)"* ]]
  [[ "$output" == *"latency    p50 "* ]]
  [[ "$output" == *"threads    "* ]]
  for pid in $(child_pids); do
    [[ "$output" == *" $pid "* ]] || { echo "child $pid missing" >&2; return 1; }
  done
  [[ "$output" != *$'\033'* ]] # not a terminal: no escape sequences
}

@test "spawnctl top: bad arguments exit 2 with one line" {
  run "$SPAWNCTL" --socket "$ADMIN" top --interval 0
  [ "$status" -eq 2 ]
  [[ "$output" == *"bad argument"* ]]
  run "$SPAWNCTL" --socket "$BATS_TEST_TMPDIR/none.sock" top --count 1
  [ "$status" -eq 1 ]
}

@test "spawnctl top in a terminal: redraws in place, q quits and restores the terminal" {
  command -v tmux >/dev/null || skip "tmux is not installed"
  local sess="spawning-top-$$"
  tmux new-session -d -s "$sess" -x 120 -y 40 \
    "$SPAWNCTL --socket $ADMIN top --interval 0.3; echo top-exited-\$?; sleep 30"
  local screen=""
  for ((i = 0; i < 50; i++)); do
    screen="$(tmux capture-pane -p -t "$sess")"
    [[ "$screen" == *"latency"* ]] && break
    sleep 0.1
  done
  sleep 1 # several redraws
  screen="$(tmux capture-pane -p -t "$sess")"
  # Redrawn in place: one header on the screen, at the top.
  [ "$(grep -c '^spawnctl top - ' <<<"$screen")" -eq 1 ] || { tmux kill-session -t "$sess"; echo "$screen" >&2; return 1; }
  [[ "$(head -1 <<<"$screen")" == "spawnctl top - "* ]]
  tmux send-keys -t "$sess" q
  for ((i = 0; i < 30; i++)); do
    screen="$(tmux capture-pane -p -t "$sess")"
    [[ "$screen" == *"top-exited-0"* ]] && break
    sleep 0.1
  done
  tmux kill-session -t "$sess"
  [[ "$screen" == *"top-exited-0"* ]] || { echo "$screen" >&2; return 1; }
}
