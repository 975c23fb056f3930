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

@test "malformed requests are answered in green mode too" {
  run "$PY" "$SPAWNING_ROOT/tests/http/check_cases.py" "$SERVER_PORT"
  echo "$output"
  [ "$status" -eq 0 ]
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
