#!/usr/bin/env bats
# What connections cost: idle keep-alive connections, deep pipelines.

load helpers

teardown() {
  stop_server
}

teardown_file() {
  kill_all_tagged
}

@test "5,000 idle keep-alive connections cost under 1 KiB each in the child" {
  [[ "$SPAWNING_BUILD" != *asan* ]] || skip "AddressSanitizer changes what memory costs"
  start_server --processes 1 --threads 4 tests.apps.hello:app
  local child
  child=$(child_pids)
  run "$PY" - "$SERVER_PORT" "$child" <<'PYEOF'
import resource, socket, sys, time
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 20000), hard))
port, child = int(sys.argv[1]), sys.argv[2]
def rss_kb():
    return int([l for l in open("/proc/%s/status" % child) if l.startswith("VmRSS")][0].split()[1])
warm = socket.create_connection(("127.0.0.1", port))
warm.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
warm.recv(1000)
before = rss_kb()
conns = []
for i in range(5000):
    c = socket.create_connection(("127.0.0.1", port))
    c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    conns.append(c)
for c in conns:
    assert b"200 OK" in c.recv(1000)
time.sleep(0.5)
print(int((rss_kb() - before) * 1024 / len(conns)))
PYEOF
  echo "bytes per idle connection: $output"
  [ "$status" -eq 0 ]
  [ "$output" -lt 1024 ]
}

@test "--threads 1: 3,000 pipelined requests on one connection are all answered, in order" {
  start_server --processes 1 --threads 1 tests.apps.lifecycle_app:app
  run "$PY" - "$SERVER_PORT" <<'PYEOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"".join(b"GET /n%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(3000)))
data = b""
while data.count(b"HTTP/1.1 200") < 3000:
    d = s.recv(1 << 20)
    if not d:
        break
    data += d
print(data.count(b"HTTP/1.1 200"))
PYEOF
  [ "$output" = 3000 ]
  proc_alive "$SERVER_PID"
}
