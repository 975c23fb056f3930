#!/bin/sh
# Installs Debian packages when missing: the ones the build and the tests
# need, plus any named on the command line (`make bench` adds its peers).
set -e
PACKAGES="build-essential libpython3-dev python3-dev libev-dev libjansson-dev libhttp-parser-dev libssl-dev openssl
clang libclang-rt-14-dev bats curl python3-flask python3-django python3-gevent python3-paste
python3-pastedeploy python3-pyramid python3-coverage python3-prometheus-client python3-venv procps iproute2 util-linux logrotate
nginx-light haproxy wrk systemd chromium tmux $*"
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
