#!/usr/bin/env bash
# The ssh server the git-over-ssh tests run on 127.0.0.1 (packages/code-io/src/__tests__/ssh-server.ts
# starts it as a child, with its own host key and config): Debian's openssh-server, installed when
# it is missing. Its service is not started or enabled.
set -euo pipefail
SSHD=/usr/sbin/sshd
if [ -x "$SSHD" ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "install-openssh-server: $SSHD is missing and installing it needs root: sudo apt-get install -y openssh-server" >&2
  exit 1
fi
echo "install-openssh-server: installing Debian's openssh-server (for the git-over-ssh tests)"
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d 101: the package's scripts may not start the system's sshd.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=1
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends openssh-server >/dev/null
if [ "$made_policy" = 1 ]; then rm -f "$policy"; fi
"$SSHD" -V 2>&1 | head -1 || true
