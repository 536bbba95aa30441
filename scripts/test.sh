#!/usr/bin/env bash
# One command from a fresh clone to the whole test suite: unit and integration tests, then the
# end-to-end tests against the built API and runner processes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
pnpm test
pnpm test:e2e
