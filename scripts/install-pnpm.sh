#!/usr/bin/env bash
# Installs pnpm at the given version, globally, with npm (bootstrap.sh calls it when pnpm is
# missing or another version). pnpm's package has install scripts (they put its native binary in
# place). npm 11.16 and later warn about any install script not allowed by name, and from npm 12
# do not run it, so pnpm's is allowed here; older npm does not know the setting (and would warn
# about an unknown one), so it is passed only to an npm that has it.
set -euo pipefail
version=${1:?usage: install-pnpm.sh <version>}
allow=()
if node -e 'const [major, minor] = process.argv[1].split(".").map(Number);
  process.exit(major > 11 || (major === 11 && minor >= 16) ? 0 : 1)' "$(npm --version)"; then
  allow=(--allow-scripts=pnpm)
fi
npm install --global --no-fund --no-audit ${allow[@]+"${allow[@]}"} "pnpm@$version" >/dev/null
