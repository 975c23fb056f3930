#!/usr/bin/env bats
# Green mode: --threads 0 runs every request in its own greenlet on gevent.

load helpers

# greenlet switches stacks by copying them with memcpy, which
# AddressSanitizer's memcpy checks report as a stack-buffer-underflow in
# greenlet itself; under ASan, those checks are off for green-mode servers
# (everything else stays checked).
if [[ "${SPAWNING_BUILD:-}" == *asan* ]]; then
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}replace_intrin=0"
fi

setup_file() {
  start_server --processes 1 --threads 0 tests.apps.green_app:app
}

teardown_file() {
  stop_server
  kill_all_tagged
}

@test "green mode serves, with wsgi.multithread False and the interpreter monkeypatched" {
  run get /facts
  [ "$(pyq 'd["multithread"], d["socket_patched"], d["time_patched"]' <<<"$output")" = "[false, true, true]" ]
  run get /hello
  [ "$output" = green ]
}

@test "1,000 concurrent requests that each sleep 1 s finish in under 3 s in one process" {
  run "$PY" - "$SERVER_PORT" <<'PYEOF'
import asyncio, resource, sys, time
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 20000), hard))
port = int(sys.argv[1])
async def one():
    try:
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(b"GET /sleep?s=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = await r.read()
        w.close()
    except OSError as e:
        print("error:", repr(e), file=sys.stderr)
        return False
    return data.startswith(b"HTTP/1.1 200") and data.endswith(b"slept\n")
async def main():
    t = time.time()
    ok = await asyncio.wait_for(asyncio.gather(*[one() for _ in range(1000)]), 20)
    print(sum(ok), "%.1f" % (time.time() - t))
asyncio.run(main())
PYEOF
  echo "$output"
  read -r ok secs <<<"$output"
  [ "$ok" -eq 1000 ]
  awk -v s="$secs" 'BEGIN { exit !(s < 3.0) }'
}

@test "keep-alive, pipelining and request bodies work in green mode" {
  run raw --pipeline --json $'GET /hello HTTP/1.1\r\nHost: x\r\n\r\n' \
    $'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello' \
    $'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'
  [ "$status" -eq 0 ]
  [ "$(pyq '[x["body"] for x in d["responses"]]' <<<"$output")" = '["green\n", "hello", "abc"]' ]
}

@test "2,000 idle keep-alive connections add under 2 MiB to the child, and are all served after" {
  [[ "$SPAWNING_BUILD" != *asan* ]] || skip "AddressSanitizer changes what memory costs"
  run "$PY" - "$SERVER_PORT" "$(child_pids)" <<'PYEOF'
import resource, socket, sys, time
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 20000), hard))
port, child = int(sys.argv[1]), sys.argv[2]
def rss_kb():
    return int([l for l in open("/proc/%s/status" % child) if l.startswith("VmRSS")][0].split()[1])
def ask(c):
    c.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
def answered(c):
    data = b""
    while not data.endswith(b"green\n"):
        d = c.recv(1000)
        if not d:
            return False
        data += d
    return data.startswith(b"HTTP/1.1 200")
warm = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(50)]
for c in warm:
    ask(c)
assert all(answered(c) for c in warm)
for c in warm:
    c.close()
time.sleep(0.5)
before = rss_kb()
conns = []
for i in range(2000):
    c = socket.create_connection(("127.0.0.1", port), timeout=10)
    ask(c)
    conns.append(c)
ok = sum(answered(c) for c in conns)
time.sleep(0.5)
grown = (rss_kb() - before) * 1024
for c in conns:
    ask(c)
ok_after = sum(answered(c) for c in conns)
print(ok, ok_after, grown)
PYEOF
  echo "$output"
  [ "$status" -eq 0 ]
  read -r ok ok_after grown <<<"$output"
  [ "$ok" -eq 2000 ] && [ "$ok_after" -eq 2000 ]
  [ "$grown" -lt $((2 * 1024 * 1024)) ]
}

@test "malformed requests are answered in green mode too" {
  run "$PY" "$SPAWNING_ROOT/tests/http/check_cases.py" "$SERVER_PORT"
  echo "$output"
  [ "$status" -eq 0 ]
}

@test "green mode: --header-timeout answers a half head with 408, --keepalive closes idle ones" {
  local port
  port=$(free_port)
  launch_server --port "$port" --processes 1 --threads 0 --header-timeout 1 --keepalive 2 \
    tests.apps.green_app:app
  SERVER_PORT=$port wait_http "$port"
  run "$PY" - "$port" <<'PYEOF'
import socket, sys, time
port = int(sys.argv[1])
def until_closed(first):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    t0 = time.monotonic()
    s.sendall(first)
    data = b""
    while True:
        d = s.recv(4096)
        if not d:
            return data, time.monotonic() - t0
        data += d
half, t_half = until_closed(b"GET /hello HTTP/1.1\r\nHost: x\r\n")
whole, t_idle = until_closed(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
print(half.split(b" ")[1].decode(), 0.9 < t_half < 2.5, whole.count(b"HTTP/1.1 200"), 1.9 < t_idle < 3.5)
PYEOF
  echo "$output"
  kill -TERM "$SERVER_PID"
  wait_exit "$SERVER_PID" 10
  [ "$output" = "408 True 1 True" ]
}

@test "SIGTERM in green mode drains: the in-flight request completes, exit 0" {
  local port out
  port=$(free_port)
  launch_server --port "$port" --processes 1 --threads 0 tests.apps.green_app:app
  SERVER_PORT=$port wait_http "$port"
  out="$BATS_TEST_TMPDIR/body"
  curl -s --max-time 10 -o "$out" "http://127.0.0.1:$port/sleep?s=2" &
  local curl_pid=$!
  # SIGTERM once the request is in flight (a busy machine may take a while)
  for i in $(seq 1 50); do
    [ "$(curl -s --max-time 2 "http://127.0.0.1:$port/inflight")" -ge 1 ] 2>/dev/null && break
    sleep 0.1
  done
  kill -TERM "$SERVER_PID"
  wait "$curl_pid"
  [ "$(cat "$out")" = slept ]
  wait_exit "$SERVER_PID" 10
  [ "$EXIT_STATUS" = 0 ]
}

@test "SIGTERM in green mode: a request in the grace gets Connection: close, idle ones close, exit 0" {
  local port
  port=$(free_port)
  launch_server --port "$port" --processes 1 --threads 0 tests.apps.green_app:app
  SERVER_PORT=$port wait_http "$port"
  local child
  child=$(child_pids)
  run "$PY" - "$port" "$child" <<'PYEOF'
import os, signal, socket, sys, time
port, child = int(sys.argv[1]), int(sys.argv[2])
req = b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
def until_closed(s):
    data = b""
    while True:
        d = s.recv(4096)
        if not d:
            return data
        data += d
a, b = (socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(2))
for s in (a, b):
    s.sendall(req)
    assert s.recv(4096).startswith(b"HTTP/1.1 200")
os.kill(child, signal.SIGTERM)  # what the controller's stop does to a child
time.sleep(0.3)
a.sendall(req)
answer = until_closed(a)
t0 = time.monotonic()
idle = until_closed(b)
print(answer.count(b"HTTP/1.1 200"), b"Connection: close" in answer, idle == b"",
      time.monotonic() - t0 < 2.5)
PYEOF
  echo "$output"
  [ "$output" = "1 True True True" ]
  kill -TERM "$SERVER_PID"
  wait_exit "$SERVER_PID" 10
}

@test "green mode without gevent: one clear error, exit 1, no crash loop" {
  run timeout 20 "$SPAWNING" --port "$(free_port)" --processes 1 --threads 0 \
    --pythonpath tests/green_fake tests.apps.hello:app
  [ "$status" -eq 1 ]
  [[ "$output" == *"green mode (--threads 0) needs gevent"* ]]
}

@test "--log-level debug: each closed connection says why, as in threaded mode" {
  start_server --processes 1 --threads 0 --log-level debug --header-timeout 1 --keepalive 1 \
    --body-timeout 1 tests.apps.http_app:app
  assert_close_reasons
}
