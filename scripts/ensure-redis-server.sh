#!/usr/bin/env bash
# The RESP benchmark compares Tessera with a real Redis Cluster in the same run: it needs Debian's
# redis-server (cluster mode) and redis-tools (redis-cli, redis-benchmark). Installs them when missing
# and we are allowed to (root with apt-get); otherwise says exactly what to do.
set -euo pipefail
have() { command -v redis-server >/dev/null && command -v redis-cli >/dev/null && command -v redis-benchmark >/dev/null; }
if have; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "ensure-redis-server: installing Debian's redis-server and redis-tools (one time)" >&2
  # Serialise with test runs that install redis-tools at the same moment.
  exec 9>/tmp/ensure-redis-tools.lock
  flock 9
  if have; then exit 0; fi
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server redis-tools >/dev/null
  have && exit 0
fi
echo "ensure-redis-server: redis-server/redis-cli/redis-benchmark not found. Install them (Debian: sudo apt-get install redis-server redis-tools)" >&2
exit 1
