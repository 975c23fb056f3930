#!/bin/sh
# The Debian packages `make bench` needs besides the build's: the peers,
# the load generator and the chart.
exec sh "$(dirname "$0")/../install-deps.sh" wrk gunicorn uwsgi uwsgi-plugin-python3 nginx-light \
    gnuplot-nox procps
