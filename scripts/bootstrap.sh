#!/usr/bin/env bash
# Everything both top-level commands need: pnpm, the dependencies (frozen lockfile), the local
# services and the build. Idempotent and quick when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1
PNPM_VERSION=$(node -p "require('./package.json').packageManager.split('@')[1]")
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version)" != "$PNPM_VERSION" ]; then
  echo "bootstrap: installing pnpm $PNPM_VERSION"
  bash scripts/install-pnpm.sh "$PNPM_VERSION"
fi
pnpm install --frozen-lockfile
bash scripts/services.sh
# Checks run by the dummy and host executors run on this host (docs/checks.md); their tests run the
# dummy project's pytest suite. Debian's packages, when the host's python3 has no pytest.
if ! python3 -m pytest --version >/dev/null 2>&1 || ! command -v git >/dev/null 2>&1; then
  echo "bootstrap: installing python3, pytest and git (Debian packages)"
  apt-get install -y --no-install-recommends python3 python3-pytest git >/dev/null ||
    { apt-get update >/dev/null && apt-get install -y --no-install-recommends python3 python3-pytest git >/dev/null; }
fi
pnpm build
