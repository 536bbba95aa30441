#!/usr/bin/env bash
# The browser the web app's end-to-end tests drive (playwright-core, no browser download of its
# own): Debian's chromium package at /usr/bin/chromium, installed when it is missing.
set -euo pipefail
CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "install-chromium: $CHROMIUM is missing and installing it needs root: sudo apt-get install -y chromium" >&2
  exit 1
fi
echo "install-chromium: installing Debian's chromium (for the web app's browser tests)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
"$CHROMIUM" --version
