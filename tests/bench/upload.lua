-- wrk script for the upload scenario: every request POSTs a 1 MiB body to
-- /upload (wrk adds the Content-Length); the app reads all of it.
wrk.method = "POST"
wrk.path = "/upload"
wrk.body = string.rep("x", 1048576)
wrk.headers["Content-Type"] = "application/octet-stream"
