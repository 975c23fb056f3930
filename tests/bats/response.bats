#!/usr/bin/env bats
# Responses: framing (chunked / Content-Length / close-delimited), HEAD,
# write(), file_wrapper, HTTP/1.0, keep-alive, Date/Server, close().

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
  start_file_server --processes 1 --threads 4 tests.apps.responses:app
}

teardown() {
  stop_own_server
}

teardown_file() {
  stop_file_server
}

# one REQUEST...: run rawhttp --json; $output is the JSON summary.
one() {
  run raw --json "$@"
  echo "$output"
}

# r EXPR: pyq on $output (r0/r1/h0/h1 ... see pyq.py).
r() {
  pyq "$1" <<<"$output"
}

# request builders: print rawhttp.py escape strings (no real CR/LF, so
# "$(GET /x)" loses nothing)
GET() { printf 'GET %s HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' "$1"; }
GET10() { printf 'GET %s HTTP/1.0\\r\\n\\r\\n' "$1"; }
HEAD() { printf 'HEAD %s HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' "$1"; }

@test "responses carry Date (RFC 7231 format) and Server headers" {
  one "$(GET /hello)"
  [[ "$(r 'h0.get("date", "")')" =~ ^(Mon|Tue|Wed|Thu|Fri|Sat|Sun),\ [0-9]{2}\ [A-Z][a-z]{2}\ [0-9]{4}\ [0-9]{2}:[0-9]{2}:[0-9]{2}\ GMT$ ]]
  [ -n "$(r 'h0.get("server", "")')" ]
  # exactly one of each
  [ "$(r 'sum(1 for k, v in r0["headers"] if k.lower() in ("date", "server"))')" = 2 ]
}

@test "status line is HTTP/1.1 with the app's reason phrase" {
  one "$(GET /teapot)"
  [ "$(r 'r0["status_line"]')" = "HTTP/1.1 418 I'm a teapot" ]
  expect_eq 'r0["body"]' 'short and stout\n'
}

@test "generator without length on HTTP/1.1: Transfer-Encoding chunked" {
  one "$(GET /generator)" "$(GET /hello)"
  [ "$status" -eq 0 ]
  [ "$(r 'h0.get("transfer-encoding")')" = chunked ]
  [ "$(r '"content-length" in h0')" = false ]
  expect_eq 'r0["body"]' 'chunk-1\nchunk-2\nchunk-3\n'
  # the empty yield did not end the body: the next response is intact
  expect_eq 'r1["body"]' 'Hello, World!\n'
}

@test "an empty chunk from the app is not sent as a 0-length chunk" {
  one "$(GET /generator)"
  # only the final chunk may have size 0
  [ "$(r 'r0["chunks"].count(0)')" = 1 ]
  [ "$(r 'r0["chunks"][-1]')" = 0 ]
}

@test "explicit Content-Length from the app is used, not chunked" {
  one "$(GET /content-length)" "$(GET /hello)"
  [ "$(r 'h0.get("content-length")')" = 21 ]
  [ "$(r '"transfer-encoding" in h0')" = false ]
  expect_eq 'r0["body"]' 'part-1\npart-2\npart-3\n'
  [ "$(r 'r1["status"]')" = 200 ]
}

@test "a one-element list gets a Content-Length" {
  one "$(GET /one-element)"
  [ "$(r 'h0.get("content-length")')" = 6 ]
  [ "$(r '"transfer-encoding" in h0')" = false ]
  [ "$(r 'r0["body"]')" = single ]
}

@test "an empty list gives an empty, well-framed body" {
  one "$(GET /empty)" "$(GET /hello)"
  [ "$status" -eq 0 ]
  [ "$(r 'r0["body"]')" = '' ]
  [ "$(r 'r1["status"]')" = 200 ]
}

@test "write() callable: written data comes before the returned iterable" {
  run get /write
  [ "$output" = "$(printf 'written-1\nwritten-2\nreturned')" ]
  run get /write-only
  [ "$output" = only-written ]
  one "$(GET /write)" "$(GET /hello)"
  [ "$(r 'r1["status"]')" = 200 ]
}

@test "HEAD: headers only, no body, connection still usable" {
  one "$(HEAD /generator)" "$(GET /hello)"
  [ "$status" -eq 0 ]
  [ "$(r 'r0["status"]')" = 200 ]
  expect_eq 'r1["body"]' 'Hello, World!\n'
  [ "$(r 'r1["status_line"]')" = 'HTTP/1.1 200 OK' ]
}

@test "HEAD with an explicit Content-Length keeps the header, sends no body" {
  one "$(HEAD /content-length)" "$(GET /one-element)"
  [ "$(r 'h0.get("content-length")')" = 21 ]
  [ "$(r 'r1["body"]')" = single ]
}

@test "HEAD via curl -I on every kind of body" {
  for p in /hello /generator /content-length /one-element /write /big?n=100000; do
    run http -I "$(url "$p")"
    [ "$status" -eq 0 ] || fail "$p: $output"
    [[ "${lines[0]}" == *" 200 "* ]] || fail "$p: $output"
  done
}

@test "204 and 304 responses have no body and keep the connection usable" {
  one "$(GET '/status?code=204')" "$(GET '/status?code=304')" "$(GET /hello)"
  [ "$status" -eq 0 ]
  [ "$(r 'r0["status"]')" = 204 ]
  [ "$(r '"transfer-encoding" in h0')" = false ]
  [ "$(r 'r1["status"]')" = 304 ]
  expect_eq 'd["responses"][2]["body"]' 'Hello, World!\n'
}

@test "repeated response headers (Set-Cookie) are all sent" {
  one "$(GET /cookies)"
  [ "$(r 'h0["set-cookie"]')" = "$(printf 'a=1; Path=/\nb=2; Path=/')" ]
}

@test "a lower-case content-length from the app is respected (one header, no chunking)" {
  one "$(GET /lower-cl)" "$(GET /one-element)"
  [ "$status" -eq 0 ]
  [ "$(r 'sum(1 for k, v in r0["headers"] if k.lower() == "content-length")')" = 1 ]
  [ "$(r 'h0["content-length"]')" = 5 ]
  [ "$(r '"transfer-encoding" in h0')" = false ]
  [ "$(r 'r0["body"]')" = lowcl ]
  [ "$(r 'r1["body"]')" = single ]
}

@test "a body shorter than the app's Content-Length: the connection is closed" {
  one "$(GET /short-cl)" "$(GET /one-element)"
  # the client must not wait for bytes that never come, nor read the next
  # response as the rest of this body
  [ "$status" -eq 3 ]
  [ "$(r 'd["closed"]')" = true ]
  [[ "$output" != *single* ]]
}

@test "a body longer than the app's Content-Length: no more than Content-Length bytes" {
  one --idle 1 "$(GET /long-cl)" "$(GET /one-element)"
  [ "$(r 'r0["body"]')" = 12345 ]
  # either the extra bytes were dropped and the connection is still fine,
  # or it was closed; never are they read as the next response
  [[ "$output" != *EXTRA* ]]
  if [ "$status" -eq 0 ]; then [ "$(r 'r1["body"]')" = single ]; fi
}

@test "a latin-1 header value is sent as latin-1 bytes" {
  one "$(GET /latin1-header)"
  [ "$(r 'h0["x-latin1"]')" = "$(printf 'caf\xc3\xa9')" ]
  [ "$(r 'ascii(h0["x-latin1"])')" = "'caf\\xe9'" ]
}

@test "100 response headers and an 8 KiB header value are sent intact" {
  one "$(GET /many-headers)"
  [ "$status" -eq 0 ]
  [ "$(r 'all(h0.get("x-h-%d" % i) == "v%d" % i for i in range(100))')" = true ]
  [ "$(r 'h0["x-big"] == "b" * 8192')" = true ]
}

@test "HTTP/1.1 keep-alive: several requests over one connection" {
  one "$(GET /hello)" "$(GET /generator)" "$(GET /one-element)" "$(GET /write)"
  [ "$status" -eq 0 ]
  [ "$(pyq '[x["status"] for x in d["responses"]]' <<<"$output")" = '[200, 200, 200, 200]' ]
  [ "$(pyq 'd["closed"]' <<<"$output")" = false ]
}

@test "pipelined requests are answered in order" {
  one --pipeline "$(GET /one-element)" "$(GET /generator)" "$(GET /hello)"
  [ "$status" -eq 0 ]
  [ "$(pyq '[x["body"] for x in d["responses"]]' <<<"$output")" = '["single", "chunk-1\nchunk-2\nchunk-3\n", "Hello, World!\n"]' ]
}

@test "Connection: close is honoured" {
  one $'GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
  [ "$status" -eq 0 ]
  [ "$(pyq 'd["closed"]' <<<"$output")" = true ]
  [ "$(r 'h0.get("connection", "").lower()')" = close ]
}

@test "HTTP/1.0 without a known length: no chunking, body ends at close" {
  one "$(GET10 /generator)"
  [ "$status" -eq 0 ]
  [ "$(r 'r0["status_line"].split()[1]')" = 200 ]
  [ "$(r '"transfer-encoding" in h0')" = false ]
  expect_eq 'r0["body"]' 'chunk-1\nchunk-2\nchunk-3\n'
  [ "$(pyq 'd["closed"]' <<<"$output")" = true ]
}

@test "HTTP/1.0 without keep-alive: connection closed after the response" {
  one "$(GET10 /one-element)"
  [ "$(r 'r0["body"]')" = single ]
  [ "$(pyq 'd["closed"]' <<<"$output")" = true ]
}

@test "HTTP/1.0 with Connection: keep-alive and a known length stays open" {
  local req=$'GET /one-element HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'
  local req2=$'GET /content-length HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'
  one "$req" "$req2"
  [ "$status" -eq 0 ]
  [ "$(r 'r0["body"]')" = single ]
  expect_eq 'r1["body"]' 'part-1\npart-2\npart-3\n'
  [ "$(pyq 'd["closed"]' <<<"$output")" = false ]
  [ "$(r 'h0.get("connection", "").lower()')" = keep-alive ]
}

@test "HTTP/1.0 with Connection: keep-alive but unknown length closes" {
  one $'GET /generator HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'
  [ "$status" -eq 0 ]
  [ "$(r '"transfer-encoding" in h0')" = false ]
  expect_eq 'r0["body"]' 'chunk-1\nchunk-2\nchunk-3\n'
  [ "$(pyq 'd["closed"]' <<<"$output")" = true ]
}

@test "a 5 MiB generator body arrives intact (chunked)" {
  get '/big?n=5242880' -o "$BATS_TEST_TMPDIR/big" -D "$BATS_TEST_TMPDIR/h"
  [ "$(header Transfer-Encoding <"$BATS_TEST_TMPDIR/h")" = chunked ]
  "$PY" -c 'import sys; sys.stdout.buffer.write((b"0123456789abcdef" * 327680))' >"$BATS_TEST_TMPDIR/expect"
  cmp "$BATS_TEST_TMPDIR/expect" "$BATS_TEST_TMPDIR/big"
}

@test "a 5 MiB body to a client that reads slowly arrives intact" {
  "$PY" -c 'import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /big?n=5242880 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
s.settimeout(20)
time.sleep(1)  # let the server hit a full socket buffer
parts = []
while True:
    c = s.recv(65536)
    if not c: break
    parts.append(c)
data = b"".join(parts)
head, body = data.split(b"\r\n\r\n", 1)
out = []; pos = 0
while True:
    eol = body.index(b"\r\n", pos)
    n = int(body[pos:eol], 16)
    if n == 0: break
    out.append(body[eol + 2:eol + 2 + n]); pos = eol + 4 + n
out = b"".join(out)
print(len(out), out == b"0123456789abcdef" * 327680)' "$SERVER_PORT" >"$BATS_TEST_TMPDIR/out"
  [ "$(cat "$BATS_TEST_TMPDIR/out")" = "5242880 True" ]
}

@test "wsgi.file_wrapper sends a file intact (1 MiB + 3 bytes)" {
  head -c 1048579 /dev/urandom >"$BATS_TEST_TMPDIR/file"
  get "/file?path=$BATS_TEST_TMPDIR/file" -o "$BATS_TEST_TMPDIR/got"
  cmp "$BATS_TEST_TMPDIR/file" "$BATS_TEST_TMPDIR/got"
}

@test "wsgi.file_wrapper with Content-Length and keep-alive" {
  head -c 200000 /dev/urandom >"$BATS_TEST_TMPDIR/file"
  one "$(GET "/file?path=$BATS_TEST_TMPDIR/file&cl=200000")" "$(GET /one-element)"
  [ "$status" -eq 0 ]
  [ "$(r 'h0.get("content-length")')" = 200000 ]
  [ "$(r 'r0["body"] == open("'"$BATS_TEST_TMPDIR/file"'", "rb").read().decode("latin-1")')" = true ]
  [ "$(r 'r1["body"]')" = single ]
}

@test "wsgi.file_wrapper without Content-Length is well framed on keep-alive" {
  printf 'small file\n' >"$BATS_TEST_TMPDIR/file"
  one "$(GET "/file?path=$BATS_TEST_TMPDIR/file")" "$(GET /one-element)"
  [ "$status" -eq 0 ]
  expect_eq 'r0["body"]' 'small file\n'
  [ "$(r 'r1["body"]')" = single ]
}

@test "wsgi.file_wrapper never sends more than the app's Content-Length" {
  head -c 100000 /dev/urandom >"$BATS_TEST_TMPDIR/file"
  one --idle 1 "$(GET "/file?path=$BATS_TEST_TMPDIR/file&cl=1000")" "$(GET /one-element)"
  [ "$(r 'r0["body"] == open("'"$BATS_TEST_TMPDIR/file"'", "rb").read(1000).decode("latin-1")')" = true ]
  [ "$(r 'r1["status_line"]')" = 'HTTP/1.1 200 OK' ]
  [ "$(r 'r1["body"]')" = single ]
}

@test "wsgi.file_wrapper over an object without fileno() (BytesIO)" {
  get '/bytesio?n=100000' -o "$BATS_TEST_TMPDIR/got"
  "$PY" -c 'import sys; sys.stdout.buffer.write((b"0123456789abcdef" * 6250))' >"$BATS_TEST_TMPDIR/expect"
  cmp "$BATS_TEST_TMPDIR/expect" "$BATS_TEST_TMPDIR/got"
}

@test "wsgi.file_wrapper: HEAD sends no body" {
  printf 'head me\n' >"$BATS_TEST_TMPDIR/file"
  one "$(HEAD "/file?path=$BATS_TEST_TMPDIR/file")" "$(GET /one-element)"
  [ "$status" -eq 0 ]
  [ "$(r 'r1["body"]')" = single ]
}

@test "close() is called on the iterable: GET and HEAD, with and without Content-Length" {
  start_server --processes 1 tests.apps.closing:app
  local f="$BATS_TEST_TMPDIR/closed"
  for mode in normal length; do
    : >"$f"
    run get "/?mode=$mode&path=$f"
    [ "$output" = "$(printf 'chunk-1\nchunk-2\nchunk-3')" ]
    for i in $(seq 20); do grep -q closed "$f" && break; sleep 0.05; done
    [ "$(cat "$f")" = "$(printf 'called\nclosed')" ] || fail "$mode: $(cat "$f")"
    : >"$f"
    run http -I "$(url "/?mode=$mode&path=$f")"
    for i in $(seq 20); do grep -q closed "$f" && break; sleep 0.05; done
    [ "$(cat "$f")" = "$(printf 'called\nclosed')" ] || fail "HEAD $mode: $(cat "$f")"
  done
}

@test "close() is called when the app's iterator raises" {
  start_server --processes 1 tests.apps.closing:app
  local f="$BATS_TEST_TMPDIR/closed"
  for mode in raise-first raise-later; do
    : >"$f"
    run get "/?mode=$mode&path=$f"
    for i in $(seq 20); do grep -q closed "$f" && break; sleep 0.05; done
    [ "$(cat "$f")" = "$(printf 'called\nclosed')" ] || fail "$mode: $(cat "$f")"
  done
}

@test "close() is called when the client goes away mid-body" {
  start_server --processes 1 tests.apps.closing:app
  local f="$BATS_TEST_TMPDIR/closed"
  : >"$f"
  # read a little of a long streamed body, then disconnect
  run http --max-time 1 -o /dev/null "$(url "/?mode=stream&path=$f")"
  for i in $(seq 60); do grep -q closed "$f" && break; sleep 0.1; done
  [ "$(cat "$f")" = "$(printf 'called\nclosed')" ] || fail "close not called: $(cat "$f")"
  # and the process still serves
  run get "/?mode=length"
  [ "$output" = "$(printf 'chunk-1\nchunk-2\nchunk-3')" ]
}

@test "the validator saw no PEP 3333 violation in this file's requests" {
  assert_log_clean
}
