#!/usr/bin/env bash
# One command from a fresh clone to the whole test suite: unit and integration tests, then the
# end-to-end tests against the built API and runner processes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
# A Docker Engine API for the docker executor's tests (podman's socket on machines without Docker)
# and the worker image; exports DOCKER_HOST. Two steps, so that a failure stops the run.
runtime_env=$(bash scripts/container-runtime.sh --env)
eval "$runtime_env"
pnpm test
pnpm test:e2e
