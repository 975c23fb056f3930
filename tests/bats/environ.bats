#!/usr/bin/env bats
# The WSGI environ (PEP 3333), seen by tests.apps.echo_environ (validated).

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
  start_file_server --processes 1 --threads 4 tests.apps.echo_environ:app
}

teardown() {
  stop_own_server
}

teardown_file() {
  stop_file_server
}

# env_of PATH [CURL ARGS...]: sets $output to the environ JSON.
env_of() {
  run get "$@"
  [ "$status" -eq 0 ] || fail "curl failed: $output"
}

# field KEY: value of KEY in $output ('<MISSING>' when absent).
field() {
  pyq "d['$1']" <<<"$output" || true
}

@test "REQUEST_METHOD for GET, POST, PUT, DELETE, PATCH, OPTIONS" {
  env_of /
  [ "$(field REQUEST_METHOD)" = GET ]
  for m in POST PUT DELETE PATCH OPTIONS; do
    env_of / -X "$m"
    [ "$(field REQUEST_METHOD)" = "$m" ] || fail "$m: $(field REQUEST_METHOD)"
  done
}

@test "SCRIPT_NAME is present and empty" {
  env_of /a/b
  [ "$(pyq 'repr(d["SCRIPT_NAME"])' <<<"$output")" = "''" ]
}

@test "PATH_INFO is the path" {
  env_of /a/b/c.txt
  [ "$(field PATH_INFO)" = /a/b/c.txt ]
}

@test "PATH_INFO is %-decoded as a latin-1 str" {
  env_of '/caf%C3%A9/a%20b'
  [ "$(pyq 'ascii(d["PATH_INFO"])' <<<"$output")" = "'/caf\\xc3\\xa9/a b'" ]
}

@test "QUERY_STRING is raw (not decoded), '' when there is none" {
  env_of '/p?a=1&b=%20x+y&c=%C3%A9'
  [ "$(field QUERY_STRING)" = 'a=1&b=%20x+y&c=%C3%A9' ]
  [ "$(field PATH_INFO)" = /p ]
  env_of /p
  [ "$(pyq 'repr(d["QUERY_STRING"])' <<<"$output")" = "''" ]
}

@test "absolute-form request target: PATH_INFO and QUERY_STRING from the URL" {
  run raw --json $'GET http://example.test/abs/path?q=1 HTTP/1.1\r\nHost: example.test\r\n\r\n'
  echo "$output"
  [ "$status" -eq 0 ]
  local body; body="$(pyq 'd["responses"][0]["body"]' <<<"$output")"
  [ "$(pyq 'd["PATH_INFO"]' <<<"$body")" = /abs/path ]
  [ "$(pyq 'd["QUERY_STRING"]' <<<"$body")" = q=1 ]
}

@test "CONTENT_TYPE and CONTENT_LENGTH only when the request has them" {
  env_of /
  [ "$(field CONTENT_TYPE)" = '<MISSING>' ]
  [ "$(field CONTENT_LENGTH)" = '<MISSING>' ]
  env_of / --data-binary 'hello' -H 'Content-Type: text/x-test; charset=utf-8'
  [ "$(field CONTENT_TYPE)" = 'text/x-test; charset=utf-8' ]
  [ "$(field CONTENT_LENGTH)" = 5 ]
  [ "$(field HTTP_CONTENT_TYPE)" = '<MISSING>' ]
  [ "$(field HTTP_CONTENT_LENGTH)" = '<MISSING>' ]
}

@test "SERVER_NAME is set, SERVER_PORT is the port" {
  env_of /
  [ -n "$(field SERVER_NAME)" ]
  [ "$(field SERVER_NAME)" != '<MISSING>' ]
  [ "$(field SERVER_PORT)" = "$SERVER_PORT" ]
}

@test "SERVER_PROTOCOL is HTTP/1.1 or HTTP/1.0 as requested" {
  env_of /
  [ "$(field SERVER_PROTOCOL)" = HTTP/1.1 ]
  env_of / --http1.0
  [ "$(field SERVER_PROTOCOL)" = HTTP/1.0 ]
}

@test "HTTP_* keys: upper-cased, '-' becomes '_'" {
  env_of / -H 'X-Custom-Header: some value' -H 'accept-language: de' -A 'bats-agent/1'
  [ "$(field HTTP_X_CUSTOM_HEADER)" = 'some value' ]
  [ "$(field HTTP_ACCEPT_LANGUAGE)" = de ]
  [ "$(field HTTP_USER_AGENT)" = bats-agent/1 ]
  [ "$(field HTTP_HOST)" = "127.0.0.1:$SERVER_PORT" ]
}

@test "repeated request headers are joined with ', '" {
  env_of / -H 'X-Rep: a' -H 'X-Rep: b' -H 'x-rep: c'
  [ "$(field HTTP_X_REP)" = 'a, b, c' ]
}

@test "a common header repeated with the same value is joined too, on every request of a connection" {
  run raw --json 'GET / HTTP/1.1\r\nHost: x\r\nAccept: a\r\nAccept: a\r\n\r\n' \
    'GET / HTTP/1.1\r\nHost: x\r\nAccept: a\r\n\r\n' \
    'GET / HTTP/1.1\r\nHost: y\r\nAccept: b\r\nAccept: a\r\n\r\n'
  [ "$(pyq '[json.loads(r["body"])["HTTP_ACCEPT"] for r in d["responses"]]' <<<"$output")" = '["a, a", "a", "b, a"]' ]
  [ "$(pyq '[json.loads(r["body"])["HTTP_HOST"] for r in d["responses"]]' <<<"$output")" = '["x", "x", "y"]' ]
}

@test "header names containing '_' are dropped" {
  env_of / -H 'X_Under: sneaky' -H 'X-Over: fine'
  [ "$(field HTTP_X_UNDER)" = '<MISSING>' ]
  [ "$(field HTTP_X_OVER)" = fine ]
}

@test "header values: surrounding whitespace trimmed, inner kept" {
  run raw --json $'GET / HTTP/1.1\r\nHost: x\r\nX-Space:    a  b   \r\n\r\n'
  [ "$(pyq 'repr(json.loads(d["responses"][0]["body"])["HTTP_X_SPACE"])' <<<"$output")" = "'a  b'" ]
}

@test "REMOTE_ADDR and REMOTE_PORT describe the client" {
  run get / -w '\n%{local_port}'
  local port="${lines[1]}" body="${lines[0]}"
  [ "$(pyq 'd["REMOTE_ADDR"]' <<<"$body")" = 127.0.0.1 ]
  [ "$(pyq 'd["REMOTE_PORT"]' <<<"$body")" = "$port" ]
}

@test "wsgi.version (1, 0), url_scheme http, run_once False" {
  env_of /
  [ "$(field wsgi.version)" = '[1, 0]' ]
  [ "$(pyq 'd["_types"]["wsgi.version"]' <<<"$output")" = tuple ]
  [ "$(field wsgi.url_scheme)" = http ]
  [ "$(field wsgi.run_once)" = false ]
}

@test "wsgi.input, wsgi.errors and wsgi.file_wrapper are present" {
  env_of /
  [ "$(pyq '"wsgi.input" in d["_types"] and "wsgi.errors" in d["_types"]' <<<"$output")" = true ]
  [ "$(field _has_file_wrapper)" = true ]
}

@test "every CGI-style value is a str (no bytes, no None)" {
  env_of '/x?y=z' -H 'X-A: b' --data-binary q
  run pyq '[k for k, t in d["_types"].items() if "." not in k and t != "str"]' <<<"$output"
  [ "$output" = '[]' ]
}

@test "threads=4, processes=1: wsgi.multithread True, wsgi.multiprocess False" {
  env_of /
  [ "$(field wsgi.multithread)" = true ]
  [ "$(field wsgi.multiprocess)" = false ]
}

@test "threads=1, processes=2: wsgi.multithread False, wsgi.multiprocess True" {
  start_server --processes 2 --threads 1 tests.apps.echo_environ:app
  env_of /
  [ "$(field wsgi.multithread)" = false ]
  [ "$(field wsgi.multiprocess)" = true ]
}

@test "wsgi.errors writes go to the error log" {
  env_of '/?err=marker-from-wsgi-errors-1234'
  for i in $(seq 20); do grep -q marker-from-wsgi-errors-1234 "$SERVER_LOG" && break; sleep 0.1; done
  grep -q marker-from-wsgi-errors-1234 "$SERVER_LOG" || fail "marker not in the log"
}

@test "environ does not leak from one request to the next on a keep-alive connection" {
  run raw --json $'GET /first HTTP/1.1\r\nHost: x\r\nX-Leak: yes\r\nContent-Length: 3\r\nContent-Type: text/plain\r\n\r\nabc' \
                 $'GET /second HTTP/1.1\r\nHost: x\r\n\r\n'
  [ "$status" -eq 0 ]
  local second
  second="$(pyq 'd["responses"][1]["body"]' <<<"$output")"
  [ "$(pyq 'd["PATH_INFO"]' <<<"$second")" = /second ]
  [ "$(pyq '"HTTP_X_LEAK" in d or "CONTENT_LENGTH" in d or "CONTENT_TYPE" in d' <<<"$second")" = false ]
}

@test "the validator saw no PEP 3333 violation in this file's requests" {
  assert_log_clean
}
