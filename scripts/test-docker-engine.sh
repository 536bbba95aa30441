#!/usr/bin/env bash
# `pnpm test:docker-engine`: the docker executor's and the running previews' tests again, on
# Debian's Docker Engine (`pnpm test` runs them on podman's socket with everything else). Each test title names the engine.
# Needs the runtime's environment: eval "$(bash scripts/container-runtime.sh --env)".
set -euo pipefail
cd "$(dirname "$0")/.."
: "${CWO_DOCKER_ENGINE_HOST:?is not set: run eval \"\$(bash scripts/container-runtime.sh --env)\" first}"
# The test files that talk to a container engine (the others do not depend on one).
ENGINE_TESTS='(apps/runner/test/(docker-executor|docker-runner|docker-checks|orphans|codex-docker|codex-docker-checks|egress[a-z-]*)|apps/api/test/running-previews)\.test\.ts$'
DOCKER_HOST=$CWO_DOCKER_ENGINE_HOST CWO_TEST_ENGINE=docker exec pnpm exec jest --runInBand "$ENGINE_TESTS" "$@"
