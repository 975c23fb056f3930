#!/usr/bin/env bats
# A Flask app (Debian's python3-flask): file upload (multipart) and download
# (send_file), checked with curl.

bats_require_minimum_version 1.5.0
load helpers

teardown() {
  stop_server
}

@test "Flask: upload a file (multipart) and download it back, byte for byte" {
  export FLASK_FILES_DIR="$BATS_TEST_TMPDIR/files"
  mkdir -p "$FLASK_FILES_DIR"
  local src="$BATS_TEST_TMPDIR/payload.bin"
  head -c 3000000 /dev/urandom >"$src"
  local sum; sum="$(sha256sum "$src" | cut -d' ' -f1)"
  start_server -s 2 tests.apps.flask_files:app
  run get /upload -F "file=@$src"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(pyq 'd["size"]' <<<"$output")" = 3000000 ]
  [ "$(pyq 'd["sha256"]' <<<"$output")" = "$sum" ]
  [ "$(pyq 'd["name"]' <<<"$output")" = payload.bin ]
  run get /download/payload.bin -D "$BATS_TEST_TMPDIR/headers" -o "$BATS_TEST_TMPDIR/back.bin"
  [ "$status" -eq 0 ]
  [ "$(sha256sum <"$BATS_TEST_TMPDIR/back.bin" | cut -d' ' -f1)" = "$sum" ]
  [[ "$(header Content-Disposition <"$BATS_TEST_TMPDIR/headers")" == *"attachment; filename=payload.bin"* ]]
  [ "$(header Content-Length <"$BATS_TEST_TMPDIR/headers")" = 3000000 ]
  run get /download/nothing -o /dev/null -w '%{http_code}'
  [ "$output" = 404 ]
}

@test "Flask: a download with a Range request, and several uploads at once" {
  export FLASK_FILES_DIR="$BATS_TEST_TMPDIR/files"
  mkdir -p "$FLASK_FILES_DIR"
  printf '0123456789' >"$FLASK_FILES_DIR/digits.txt"
  start_server -s 1 --threads 4 tests.apps.flask_files:app
  run get /download/digits.txt -H 'Range: bytes=2-5' -w ' %{http_code}'
  [ "$output" = "2345 206" ]
  local pids=()
  for i in 1 2 3 4; do
    head -c $((i * 100000)) /dev/zero >"$BATS_TEST_TMPDIR/up$i"
    get /upload -F "file=@$BATS_TEST_TMPDIR/up$i" -o "$BATS_TEST_TMPDIR/res$i" &
    pids+=($!)
  done
  wait "${pids[@]}"
  for i in 1 2 3 4; do
    [ "$(pyq 'd["size"]' <"$BATS_TEST_TMPDIR/res$i")" = $((i * 100000)) ]
  done
}
