#!/usr/bin/env bats
# wsgi.input: read(n), read(), readline(), readline(n), readlines(),
# iteration, EOF, chunked request bodies, keep-alive after a body.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
  start_server --processes 1 --threads 4 tests.apps.inputs:app
}

teardown_file() {
  stop_file_server
}

# post PATH DATA [CURL ARGS]: POST DATA (a string) to PATH.
post() {
  local path="$1" data="$2"; shift 2
  run get "$path" --data-binary "$data" -H 'Content-Type: application/octet-stream' "$@"
  [ "$status" -eq 0 ] || fail "curl: $output"
}

@test "read(n) returns the body (n = 1, 3, 7, 100000)" {
  for n in 1 3 7 100000; do
    run get "/read-n?n=$n" --data-binary 'hello, body' -D "$BATS_TEST_TMPDIR/h"
    [ "$output" = 'hello, body' ] || fail "n=$n: $output"
    [ "$(header X-After-EOF <"$BATS_TEST_TMPDIR/h")" = 0 ]
  done
  # 11 bytes in reads of 3: at least 4 reads, none longer than asked
  run get "/read-n?n=3" --data-binary 'hello, body' -D "$BATS_TEST_TMPDIR/h"
  [ "$(header X-Reads <"$BATS_TEST_TMPDIR/h")" -ge 4 ]
}

@test "read(n) on a request without a body returns b'' at once" {
  run get "/read-n?n=10" --max-time 3 -D "$BATS_TEST_TMPDIR/h"
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  [ "$(header X-Reads <"$BATS_TEST_TMPDIR/h")" = 0 ]
}

@test "a 1 MiB body read with read(65536) arrives intact" {
  head -c 1048576 /dev/urandom >"$BATS_TEST_TMPDIR/body"
  get "/read-n?n=65536" --data-binary "@$BATS_TEST_TMPDIR/body" -o "$BATS_TEST_TMPDIR/echo"
  cmp "$BATS_TEST_TMPDIR/body" "$BATS_TEST_TMPDIR/echo"
}

@test "a 3 MiB body read with read(1000003) arrives intact" {
  head -c 3145728 /dev/urandom >"$BATS_TEST_TMPDIR/body"
  get "/read-n?n=1000003" --data-binary "@$BATS_TEST_TMPDIR/body" -o "$BATS_TEST_TMPDIR/echo"
  cmp "$BATS_TEST_TMPDIR/body" "$BATS_TEST_TMPDIR/echo"
}

@test "read() with no argument returns the whole body" {
  post /read-all 'all of it'
  [ "$output" = 'all of it' ]
  head -c 300000 /dev/urandom >"$BATS_TEST_TMPDIR/body"
  get /read-all --data-binary "@$BATS_TEST_TMPDIR/body" -o "$BATS_TEST_TMPDIR/echo"
  cmp "$BATS_TEST_TMPDIR/body" "$BATS_TEST_TMPDIR/echo"
}

@test "read() with no argument and no body returns b''" {
  run get /read-all --max-time 3
  [ "$status" -eq 0 ]
  [ -z "$output" ]
}

@test "readline() splits on LF and returns the unterminated tail" {
  post /readline $'a\nbb\n\nccc'
  [ "$output" = '["a\n", "bb\n", "\n", "ccc"]' ]
}

@test "readline(n) returns at most n bytes" {
  post '/readline-n?n=4' $'abcdef\ngh\nijklmnop'
  [ "$output" = '["abcd", "ef\n", "gh\n", "ijkl", "mnop"]' ]
}

@test "readline() handles a line longer than any buffer (200 KiB)" {
  "$PY" -c 'import sys; sys.stdout.write("x" * 204800 + "\nend")' >"$BATS_TEST_TMPDIR/body"
  run get /readline --data-binary "@$BATS_TEST_TMPDIR/body"
  [ "$(pyq '[len(x) for x in d]' <<<"$output")" = '[204801, 3]' ]
}

@test "readlines() returns every line" {
  post /readlines $'one\ntwo\nthree\n'
  [ "$output" = '["one\n", "two\n", "three\n"]' ]
}

@test "iterating over wsgi.input yields lines" {
  post /iter $'one\ntwo\nthree'
  [ "$output" = '["one\n", "two\n", "three"]' ]
  post /iter-validated $'x\ny\n'
  [ "$output" = '["x\n", "y\n"]' ]
}

@test "binary bytes (NUL, 0xff, CR) pass through unchanged" {
  printf 'a\0b\377c\r\nd' >"$BATS_TEST_TMPDIR/body"
  get /read-n?n=2 --data-binary "@$BATS_TEST_TMPDIR/body" -o "$BATS_TEST_TMPDIR/echo"
  cmp "$BATS_TEST_TMPDIR/body" "$BATS_TEST_TMPDIR/echo"
}

@test "chunked request body (Transfer-Encoding: chunked)" {
  run raw --json $'POST /read-n?n=5 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7\r\n, chunk\r\n3;ext=1\r\ned!\r\n0\r\n\r\n' \
                 $'GET /after HTTP/1.1\r\nHost: x\r\n\r\n'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(pyq 'd["responses"][0]["body"]' <<<"$output")" = 'hello, chunked!' ]
  [ "$(pyq 'd["responses"][1]["body"]' <<<"$output")" = 'GET /after' ]
}

@test "chunked request body read with readline()" {
  run raw --json $'POST /readline HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nab\nc\r\n3\r\nd\ne\r\n0\r\n\r\n'
  [ "$(pyq 'd["responses"][0]["body"]' <<<"$output")" = '["ab\n", "cd\n", "e"]' ]
}

@test "chunked request body via curl (1 MiB)" {
  head -c 1048576 /dev/urandom >"$BATS_TEST_TMPDIR/body"
  get "/read-n?n=65536" -H 'Transfer-Encoding: chunked' --data-binary "@$BATS_TEST_TMPDIR/body" -o "$BATS_TEST_TMPDIR/echo"
  cmp "$BATS_TEST_TMPDIR/body" "$BATS_TEST_TMPDIR/echo"
}

@test "keep-alive: a request after a fully read POST body is parsed correctly" {
  run raw --json $'POST /read-n?n=4 HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789' \
                 $'GET /next HTTP/1.1\r\nHost: x\r\n\r\n'
  [ "$status" -eq 0 ]
  [ "$(pyq 'd["responses"][0]["body"]' <<<"$output")" = 0123456789 ]
  [ "$(pyq 'd["responses"][1]["body"]' <<<"$output")" = 'GET /next' ]
}

@test "keep-alive: an unread body is skipped, not parsed as the next request" {
  local smuggled=$'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n'
  run raw --json --idle 1 $'POST /ignore HTTP/1.1\r\nHost: x\r\nContent-Length: '"${#smuggled}"$'\r\n\r\n'"$smuggled" \
                 $'GET /second HTTP/1.1\r\nHost: x\r\n\r\n'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(pyq 'd["responses"][0]["body"]' <<<"$output")" = 'POST /ignore' ]
  [ "$(pyq 'd["responses"][1]["body"]' <<<"$output")" = 'GET /second' ]
  [ "$(pyq 'd["extra"]' <<<"$output")" = '' ]
}

@test "keep-alive: a partly read body is skipped (pipelined)" {
  run raw --json --pipeline --idle 1 \
    $'POST /partial?n=3 HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabcdefghij' \
    $'GET /third HTTP/1.1\r\nHost: x\r\n\r\n'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(pyq 'd["responses"][0]["body"]' <<<"$output")" = abc ]
  [ "$(pyq 'd["responses"][1]["body"]' <<<"$output")" = 'GET /third' ]
  [ "$(pyq 'd["extra"]' <<<"$output")" = '' ]
}

@test "keep-alive: an unread chunked body is skipped" {
  run raw --json --idle 1 $'POST /ignore HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nGET /\r\n0\r\n\r\n' \
                 $'GET /fourth HTTP/1.1\r\nHost: x\r\n\r\n'
  [ "$status" -eq 0 ]
  [ "$(pyq 'd["responses"][1]["body"]' <<<"$output")" = 'GET /fourth' ]
}

@test "a body sent slowly in pieces is read completely" {
  "$PY" -c 'import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /read-n?n=100 HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\nConnection: close\r\n\r\n")
for part in (b"slow", b"ly s", b"ent!"):
    time.sleep(0.3); s.sendall(part)
s.settimeout(5); data = b""
while True:
    c = s.recv(65536)
    if not c: break
    data += c
print(data.split(b"\r\n\r\n", 1)[1].decode())' "$SERVER_PORT" >"$BATS_TEST_TMPDIR/out"
  [ "$(cat "$BATS_TEST_TMPDIR/out")" = 'slowly sent!' ]
}

@test "the validator saw no PEP 3333 violation in this file's requests" {
  assert_log_clean
}
