#!/usr/bin/env bash
# One command from a fresh clone to a running service (API on $PORT, default 8000, and a runner
# with the dummy agent): installs, starts Postgres and Redis, builds, migrates, starts.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
psql_url=${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/codex_orchestrator}
node scripts/create-database.js "$psql_url"
exec pnpm start
