#!/usr/bin/env bats
# The access log's request fields: the host behind a trusted proxy
# (X-Forwarded-For, Forwarded) and request header atoms, which a line finds
# in one pass over the head (chd_logfields): any case, the first of
# repeated fields, more atoms than that pass holds, and long names.

bats_require_minimum_version 1.5.0
load helpers

teardown() {
  stop_server
}

teardown_file() {
  kill_all_tagged
}

# logged FILE ERE: a line of FILE matches. The server is stopped first: a
# graceful stop writes out every buffered line.
logged() {
  stop_server
  grep -qE -- "$2" "$1" || { echo "no line matching $2 in $1:" >&2; cat "$1" >&2; false; }
}

@test "the host behind a trusted proxy: X-Forwarded-For's last entry, Forwarded first" {
  local log="$BATS_TEST_TMPDIR/access.log"
  start_server --processes 1 -l "$log" --access-log-format '%(h)s %(U)s' tests.apps.hello:app
  get /xff -H 'X-Forwarded-For: 10.1.2.3, 198.51.100.7' >/dev/null
  get /fwd -H 'x-forwarded-for: 10.9.9.9' -H 'FORWARDED: for="[2001:db8::5]:80";proto=https' >/dev/null
  get /unknown -H 'X-Forwarded-For: unknown' >/dev/null
  logged "$log" '^198\.51\.100\.7 /xff$'
  logged "$log" '^2001:db8::5 /fwd$'
  logged "$log" '^127\.0\.0\.1 /unknown$'
}

@test "the host from an untrusted peer is the peer, whatever it says" {
  local log="$BATS_TEST_TMPDIR/access.log"
  start_server --processes 1 -l "$log" --forwarded-allow-ips 192.0.2.1 \
    --access-log-format '%(h)s %(U)s' tests.apps.hello:app
  get /untrusted -H 'X-Forwarded-For: 198.51.100.7' -H 'Forwarded: for=192.0.2.9' >/dev/null
  logged "$log" '^127\.0\.0\.1 /untrusted$'
}

@test "request header atoms: any case, the first of repeated fields, absent ones" {
  local log="$BATS_TEST_TMPDIR/access.log"
  start_server --processes 1 -l "$log" \
    --access-log-format '%(a)s|%({user-agent}i)s|%({X-Dup}i)s|%({x-a^b}i)s|%(f)s|%({X-None}i)s' \
    tests.apps.hello:app
  get /h -A 'Agent/1 "q"' -H 'x-dup: one' -H 'X-DUP: two' -H 'X-A~B: tilde' -H 'X-a^B: caret' >/dev/null
  logged "$log" '^Agent/1 \\"q\\"\|Agent/1 \\"q\\"\|one\|caret\|-\|-$'
}

@test "request header atoms past the one-pass set and with long names are found too" {
  local log="$BATS_TEST_TMPDIR/access.log" fmt="" want="" args=() i
  local long="X-A-Header-Name-That-Is-Longer-Than-Sixty-Four-Bytes-Which-Is-Rare-But-Legal"
  for i in $(seq 1 20); do
    fmt+="%({X-H$i}i)s,"
    want+="v$i,"
    args+=(-H "X-H$i: v$i")
  done
  start_server --processes 1 -l "$log" --access-log-format "$fmt%({$long}i)s" tests.apps.hello:app
  get /many "${args[@]}" -H "${long,,}: long" >/dev/null
  logged "$log" "^${want}long\$"
}
