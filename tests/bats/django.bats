#!/usr/bin/env bats
# A project made by `django-admin startproject`, served through
# spawning.django_factory: the admin login page, a POST with CSRF.

bats_require_minimum_version 1.5.0
load helpers

DJANGO_FACTORY=spawning.django_factory.config_factory

setup_file() {
  export PROJECT="$BATS_FILE_TMPDIR/project"
  mkdir -p "$PROJECT"
  (cd "$PROJECT" && django-admin startproject mysite . &&
    "$PY" manage.py migrate -v 0 &&
    DJANGO_SUPERUSER_PASSWORD=s3cret-pass "$PY" manage.py createsuperuser --noinput \
      --username admin --email admin@example.com) >&2
}

teardown() {
  stop_server
}

teardown_file() {
  kill_all_tagged
}

# login_form: GET /admin/login/ with a cookie jar; sets TOKEN (the form's
# csrfmiddlewaretoken).
login_form() {
  JAR="$BATS_TEST_TMPDIR/cookies"
  get /admin/login/ -c "$JAR" -o "$BATS_TEST_TMPDIR/login.html" -w '%{http_code}' >"$BATS_TEST_TMPDIR/code"
  TOKEN="$(sed -n 's/.*name="csrfmiddlewaretoken" value="\([^"]*\)".*/\1/p' "$BATS_TEST_TMPDIR/login.html")"
}

@test "the admin login page: 200 with the login form" {
  start_server -s 1 --chdir "$PROJECT" --factory=$DJANGO_FACTORY mysite.settings
  login_form
  [ "$(cat "$BATS_TEST_TMPDIR/code")" = 200 ]
  grep -q '<form action="/admin/login/' "$BATS_TEST_TMPDIR/login.html"
  grep -q 'name="password"' "$BATS_TEST_TMPDIR/login.html"
  [ -n "$TOKEN" ]
  grep -q csrftoken "$JAR"
}

@test "a POST with the CSRF cookie and token logs in; a wrong token is 403" {
  start_server -s 2 --chdir "$PROJECT" -f $DJANGO_FACTORY mysite.settings
  login_form
  run get /admin/login/ -b "$JAR" -c "$JAR" -o /dev/null -w '%{http_code} %{redirect_url}' \
    -H "Referer: $(url /admin/login/)" \
    --data-urlencode "csrfmiddlewaretoken=$TOKEN" --data-urlencode username=admin \
    --data-urlencode password=s3cret-pass --data-urlencode next=/admin/
  echo "$output"
  [ "$output" = "302 $(url /admin/)" ]
  # logged in: the admin index, from whichever child
  run get /admin/ -b "$JAR" -o /dev/null -w '%{http_code}'
  [ "$output" = 200 ]
  run get /admin/login/ -b "$JAR" -o /dev/null -w '%{http_code}' \
    --data-urlencode "csrfmiddlewaretoken=not-the-token" --data-urlencode username=admin \
    --data-urlencode password=s3cret-pass
  [ "$output" = 403 ]
  run get /admin/login/ -o /dev/null -w '%{http_code}' \
    --data-urlencode "csrfmiddlewaretoken=$TOKEN" --data-urlencode username=admin \
    --data-urlencode password=s3cret-pass
  [ "$output" = 403 ]
}

@test "a settings module that does not exist: one line, exit 1" {
  launch_server -s 1 --chdir "$PROJECT" -f $DJANGO_FACTORY nosuchsite.settings
  wait_exit "$SERVER_PID" 20
  cat "$SERVER_LOG"
  [ "$EXIT_STATUS" = 1 ]
  [ "$(wc -l <"$SERVER_LOG")" -eq 1 ]
  grep -q "nosuchsite.settings: no such settings module" "$SERVER_LOG"
  [ -z "$(tagged_pids "$SERVER_TAG")" ]
}
