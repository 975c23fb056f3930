"""An app that records every request it is handed, for the tests that must
show a malformed request never reached the application.

Each call appends one line "METHOD TARGET" (the target rebuilt from
PATH_INFO and QUERY_STRING) to the file named by $SPAWNING_RECORD_FILE, then
answers the str environ values as JSON (like echo_environ.raw_app).
"""
import json
import os


def app(environ, start_response):
    target = environ.get("PATH_INFO", "")
    if environ.get("QUERY_STRING"):
        target += "?" + environ["QUERY_STRING"]
    with open(os.environ["SPAWNING_RECORD_FILE"], "a", encoding="latin-1") as f:
        f.write("%s %s\n" % (environ.get("REQUEST_METHOD"), target))
    body = json.dumps({k: v for k, v in environ.items() if isinstance(v, str)}).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]
