#!/usr/bin/env bash
# Installs what the demo and the tests need, only when something is missing, so both README
# commands work on a fresh Debian machine. Debian packages need root; the lab needs root anyway.
# `--unit` skips the Debian packages: the unit tests need only Node.js and node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."
unit_only=false
[ "${1:-}" = "--unit" ] && unit_only=true

need_pkgs=()
have() { command -v "$1" >/dev/null 2>&1; }
have ip        || need_pkgs+=(iproute2)
have arping    || need_pkgs+=(iputils-arping)
have iptables  || need_pkgs+=(iptables)
have busybox   || need_pkgs+=(busybox-static)
have tcpdump   || need_pkgs+=(tcpdump)
have ping      || need_pkgs+=(iputils-ping)
# The Docker e2e tests: an engine per lab host (a docker CLI elsewhere on PATH is not enough).
[ -x /usr/sbin/dockerd ] || need_pkgs+=(docker.io)
have nsenter   || need_pkgs+=(util-linux)
have docker-compose || need_pkgs+=(docker-compose)
# the lab builds its base image from Debian packages (no registry in the lab)
have debootstrap || [ -x /usr/sbin/debootstrap ] || need_pkgs+=(debootstrap)
# The quick benchmark compares against keepalived at defaults.
have keepalived || need_pkgs+=(keepalived)
have promtool  || need_pkgs+=(prometheus)
# election: etcd's lab test runs a three-member etcd, one member per lab namespace (the
# package's own service is never used).
have etcd      || need_pkgs+=(etcd-server)
# The status page's browser test drives Debian's chromium (playwright-core downloads no browser).
[ -x /usr/bin/chromium ] || need_pkgs+=(chromium)
# The pinned Node.js (test/node/) links libatomic, as the official Node images' binaries do.
[[ "$(/sbin/ldconfig -p 2>/dev/null)" == *"libatomic.so.1 "* ]] || need_pkgs+=(libatomic1)
if [ ${#need_pkgs[@]} -gt 0 ] && ! $unit_only; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing ${need_pkgs[*]}; run as root (sudo) so they can be installed" >&2
    exit 1
  fi
  echo "setup: installing ${need_pkgs[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

# The pinned Node.js (test/node/, the major of the Dockerfile's default NODE_IMAGE), first on
# PATH from here on, so that npm ci runs on it.
source test/node-env.sh

# npm writes node_modules/.package-lock.json on every install; newer than the lock file means
# the install is current, so repeat runs skip npm ci.
if [ ! node_modules/.package-lock.json -nt package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
