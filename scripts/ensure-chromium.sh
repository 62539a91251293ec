#!/usr/bin/env bash
# Browser tests need Debian's Chromium (Playwright cannot download browsers here).
# Installs it when missing and we are allowed to; otherwise says exactly what to do.
set -euo pipefail
chromium_path="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$chromium_path" ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "ensure-chromium: installing Debian's chromium (one time)" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "ensure-chromium: $chromium_path not found. Install Chromium (Debian: sudo apt-get install chromium)" >&2
echo "or set CHROMIUM_PATH to a Chromium binary." >&2
exit 1
