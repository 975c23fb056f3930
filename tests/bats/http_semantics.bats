#!/usr/bin/env bats
# HTTP semantics round two (issue 10): methods, request-target forms, Host,
# fields that must appear once, chunk-size lines and trailers. Every
# malformed request is sent raw and must get its status and never reach the
# app: tests/apps/recorder.py appends each request it is handed to
# $SPAWNING_RECORD_FILE, and the file must stay empty.

load helpers

setup_file() {
  export SPAWNING_RECORD_FILE="$BATS_FILE_TMPDIR/seen.log"
  start_server --processes 1 --threads 2 tests.apps.recorder:app
}

teardown_file() {
  stop_server
  kill_all_tagged
}

setup() {
  : >"$SPAWNING_RECORD_FILE" # the start-up probe, or an earlier test
}

# body_of REQUEST: the JSON environ the recorder answered to REQUEST.
body_of() {
  run raw --json "$1"
  echo "$output"
  [ "$status" -eq 0 ]
  body="$(pyq 'd["responses"][0]["body"]' <<<"$output")"
}

@test "the recorder records what reaches the app" {
  run raw $'GET /seen?x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
  [[ "$output" == "HTTP/1.1 200 "* ]]
  [ "$(cat "$SPAWNING_RECORD_FILE")" = "GET /seen?x=1" ]
}

@test "every malformed request of the table: its status, a closed connection, and the app saw nothing" {
  run "$PY" "$SPAWNING_ROOT/tests/http/check_cases.py" --record "$SPAWNING_RECORD_FILE" "$SERVER_PORT"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *" passed, 0 failed" ]]
  [ ! -s "$SPAWNING_RECORD_FILE" ]
}

@test "an unknown token method gets 501, a non-token one 400; neither reaches the app" {
  run raw $'BREW /pot HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc'
  [[ "$output" == "HTTP/1.1 501 "* ]]
  run raw $'BR(EW /pot HTTP/1.1\r\nHost: x\r\n\r\n'
  [[ "$output" == "HTTP/1.1 400 "* ]]
  [ ! -s "$SPAWNING_RECORD_FILE" ]
}

@test "WebDAV and other methods http-parser knows reach the app" {
  for m in PROPFIND MKCOL COPY MOVE LOCK UNLOCK PROPPATCH REPORT PURGE; do
    run raw "$m /dav HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 0\\r\\nConnection: close\\r\\n\\r\\n"
    [[ "$output" == "HTTP/1.1 200 "* ]] || { echo "$m: $output"; false; }
  done
  [ "$(wc -l <"$SPAWNING_RECORD_FILE")" -eq 9 ]
  grep -qx "PROPFIND /dav" "$SPAWNING_RECORD_FILE"
}

@test "absolute-form: the target's authority replaces Host (HTTP_HOST, SERVER_NAME, SERVER_PORT)" {
  body_of $'GET http://example.com:8080/p/q?x=1 HTTP/1.1\r\nHost: other.test\r\nConnection: close\r\n\r\n'
  [ "$(pyq 'd["HTTP_HOST"]' <<<"$body")" = example.com:8080 ]
  [ "$(pyq 'd["SERVER_NAME"]' <<<"$body")" = example.com ]
  [ "$(pyq 'd["SERVER_PORT"]' <<<"$body")" = 8080 ]
  [ "$(pyq 'd["PATH_INFO"] + "|" + d["QUERY_STRING"]' <<<"$body")" = "/p/q|x=1" ]
  body_of $'GET https://[2001:db8::1]?q HTTP/1.1\r\nHost: other.test\r\nConnection: close\r\n\r\n'
  [ "$(pyq 'd["HTTP_HOST"] + " " + d["SERVER_NAME"] + " " + d["SERVER_PORT"]' <<<"$body")" = "[2001:db8::1] [2001:db8::1] 443" ]
  [ "$(pyq 'd["PATH_INFO"] + "|" + d["QUERY_STRING"]' <<<"$body")" = "/|q" ]
}

@test "origin-form keeps Host and the configured SERVER_NAME" {
  body_of $'GET /o HTTP/1.1\r\nHost: www.test:81\r\nConnection: close\r\n\r\n'
  [ "$(pyq 'd["HTTP_HOST"]' <<<"$body")" = www.test:81 ]
  [ "$(pyq 'd["SERVER_NAME"]' <<<"$body")" = 127.0.0.1 ]
}

@test "OPTIONS * reaches the app with PATH_INFO '*'" {
  body_of $'OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
  [ "$(pyq 'd["REQUEST_METHOD"] + " " + d["PATH_INFO"]' <<<"$body")" = "OPTIONS *" ]
}

@test "CONNECT gets 501 and never reaches the app" {
  run raw $'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'
  [[ "$output" == "HTTP/1.1 501 "* ]]
  [ ! -s "$SPAWNING_RECORD_FILE" ]
}

@test "trailer fields never become request headers" {
  body_of $'POST /t HTTP/1.1\r\nHost: good\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\nHost: evil\r\nContent-Type: x/evil\r\nX-Trailer: t\r\n\r\n'
  [ "$(pyq 'd["HTTP_HOST"]' <<<"$body")" = good ]
  [ "$(pyq '"CONTENT_TYPE" in d or "HTTP_X_TRAILER" in d' <<<"$body")" = false ]
  [ "$(cat "$SPAWNING_RECORD_FILE")" = "POST /t" ]
  # a framing field in the trailers is refused outright
  run raw $'POST /t2 HTTP/1.1\r\nHost: good\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nContent-Length: 99\r\n\r\n'
  [[ "$output" == "HTTP/1.1 400 "* ]]
  [ "$(cat "$SPAWNING_RECORD_FILE")" = "POST /t" ]
}

@test "a chunk-size line with whitespace before its CRLF is a 400 the app never sees" {
  run raw $'POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n'
  [[ "$output" == "HTTP/1.1 400 "* ]]
  run raw $'POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5 ;e=1\r\nhello\r\n0\r\n\r\n'
  [[ "$output" == "HTTP/1.1 200 "* ]]
  [ "$(cat "$SPAWNING_RECORD_FILE")" = "POST /c" ]
}

@test "the child survived everything" {
  [ "$(child_pids | wc -l)" -eq 1 ]
  assert_no_sanitizer_report
}
