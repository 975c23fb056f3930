#!/usr/bin/python3
"""pyq.py EXPR: parse JSON from stdin into `d`, evaluate the Python
expression EXPR and print the result (str as-is, anything else as JSON).
A missing key or index prints <MISSING> and exits 1.

For rawhttp.py --json documents, EXPR may also use r0, r1, r2 (the
responses, {} when absent) and h0, h1, h2 (their headers as a dict keyed by
lower-case name; repeated headers joined with '\\n')."""
import json
import sys

d = json.loads(sys.stdin.read())
names = {"d": d, "json": json}
if isinstance(d, dict) and isinstance(d.get("responses"), list):
    for i in range(3):
        resp = d["responses"][i] if i < len(d["responses"]) else {}
        hdrs = {}
        for k, v in resp.get("headers", []):
            k = k.lower()
            hdrs[k] = hdrs[k] + "\n" + v if k in hdrs else v
        names["r%d" % i] = resp
        names["h%d" % i] = hdrs
try:
    v = eval(sys.argv[1], names)
except (KeyError, IndexError):
    print("<MISSING>")
    sys.exit(1)
print(v if isinstance(v, str) else json.dumps(v))
