#!/usr/bin/env bash
# Builds another commit of this repository in a directory of its own, for the chaos suite to run
# under the same faults as this checkout's build (docs/faults.md):
#   bash e2e/chaos/build-commit.sh e3d2faa /tmp/cwo-e3d2faa
#   CHAOS_APP_ROOT=/tmp/cwo-e3d2faa pnpm chaos --short
# The suite, its judge and the worker image stay this checkout's; only the API and runner
# processes (and the migrations they run) are the other commit's.
set -euo pipefail
commit=${1:?usage: build-commit.sh <commit> <directory>}
dir=${2:?usage: build-commit.sh <commit> <directory>}
cd "$(dirname "$0")/../.."
rm -rf "$dir"
mkdir -p "$dir"
git archive "$commit" | tar -x -C "$dir"
cd "$dir"
export TURBO_TELEMETRY_DISABLED=1
# The packages come from the local store when it has them (every commit of this repository so far).
pnpm install --frozen-lockfile --prefer-offline >/dev/null
pnpm build >/dev/null
echo "build-commit: $commit built in $dir"
