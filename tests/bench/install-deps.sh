#!/bin/sh
# Installs the Debian packages `make bench` needs (peers, load generator,
# chart), when missing. The build's own packages come from tests/install-deps.sh.
set -e
PACKAGES="wrk gunicorn uwsgi uwsgi-plugin-python3 nginx-light gnuplot-nox python3-gevent procps"
missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing
