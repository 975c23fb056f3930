#!/usr/bin/python3
"""metrics_scrape.py URL: fetch a Prometheus /metrics page, parse it with
the client library's own parser (python3-prometheus-client) and print its
samples as one JSON object: "name" or "name{k=v,...}" (labels sorted) ->
value. Also checks what the parser does not: the Content-Type, that every
family has a HELP, that counters' samples end in _total and that each
histogram's buckets are cumulative and end in +Inf equal to _count. Exits
1 with the reason when any of that fails."""
import json
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

WANT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def key(name, labels):
    if not labels:
        return name
    return "%s{%s}" % (name, ",".join("%s=%s" % kv for kv in sorted(labels.items())))


def check_histogram(family):
    buckets = [s for s in family.samples if s.name.endswith("_bucket")]
    counts = [s.value for s in buckets]
    if counts != sorted(counts):
        sys.exit("%s: buckets not cumulative: %r" % (family.name, counts))
    if buckets[-1].labels.get("le") != "+Inf":
        sys.exit("%s: last bucket is not +Inf" % family.name)
    count = [s.value for s in family.samples if s.name.endswith("_count")]
    if count != [counts[-1]]:
        sys.exit("%s: _count %r is not the +Inf bucket %r" % (family.name, count, counts[-1]))


def main():
    with urllib.request.urlopen(sys.argv[1], timeout=5) as resp:
        ctype = resp.headers.get("Content-Type")
        text = resp.read().decode("utf-8")
    if ctype != WANT_TYPE:
        sys.exit("Content-Type %r, want %r" % (ctype, WANT_TYPE))
    out = {}
    for family in text_string_to_metric_families(text):
        if not family.documentation:
            sys.exit("%s has no HELP" % family.name)
        if family.type == "counter" and not all(s.name.endswith("_total") for s in family.samples):
            sys.exit("counter %s: a sample not named *_total" % family.name)
        if family.type == "histogram":
            check_histogram(family)
        for s in family.samples:
            out[key(s.name, s.labels)] = s.value
    json.dump(out, sys.stdout, sort_keys=True)
    print()


main()
