#!/usr/bin/env bash
# Installs OpenSSH's server for the SSH target tests (each test starts its own throwaway sshd on 127.0.0.1).
# Where apt-get cannot be used, those tests skip and say why.
set -u
if [ -x /usr/sbin/sshd ] && command -v ssh >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "sshd setup: apt-get unavailable (not root or not Debian); SSH target tests will be skipped" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends openssh-server openssh-client >/dev/null 2>&1 \
  || { apt-get update -qq >/dev/null 2>&1; apt-get install -y -qq --no-install-recommends openssh-server \
       openssh-client >/dev/null 2>&1; } \
  || echo "sshd setup: apt-get install openssh-server failed; SSH target tests will be skipped" >&2
exit 0
