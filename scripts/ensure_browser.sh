#!/usr/bin/env bash
# Installs Debian's Chromium and CJK fonts for the browser tests when they are missing.
# Where apt-get cannot be used, the browser tests skip and say why.
set -u
if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi "noto.*cjk"; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "browser setup: apt-get unavailable (not root or not Debian); browser tests will be skipped" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null 2>&1 || true
apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >/dev/null 2>&1 \
  || echo "browser setup: apt-get install chromium failed; browser tests will be skipped" >&2
exit 0
