#!/usr/bin/env bash
# The RESP server tests drive Debian's redis-cli (and later redis-benchmark).
# Installs redis-tools when missing and we are allowed to; otherwise says exactly what to do.
set -euo pipefail
if command -v redis-cli >/dev/null && command -v redis-benchmark >/dev/null; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "ensure-redis-tools: installing Debian's redis-tools (one time)" >&2
  # Serialise with other test runs that may install at the same moment.
  exec 9>/tmp/ensure-redis-tools.lock
  flock 9
  if command -v redis-cli >/dev/null; then exit 0; fi
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-tools >/dev/null
  command -v redis-cli >/dev/null && exit 0
fi
echo "ensure-redis-tools: redis-cli not found. Install it (Debian: sudo apt-get install redis-tools)" >&2
exit 1
