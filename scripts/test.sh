#!/usr/bin/env bash
# One command from a fresh clone to the whole test suite: unit and integration tests, then the
# end-to-end tests against the built API and runner processes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
# Real Chromium for the browser tests (previews' isolation in the unit suite, the web app's e2e).
bash scripts/install-chromium.sh
# Debian's sshd for the git-over-ssh tests (imports and pushes over ssh, on 127.0.0.1).
bash scripts/install-openssh-server.sh
# Lint (typescript-eslint, type-aware), formatting (Prettier) and types of the whole tree, tests
# included, before any test runs.
pnpm lint
pnpm typecheck
# Two Docker Engine APIs for the docker executor's tests, podman's socket and Debian's Docker Engine
# (scripts/container-runtime.sh starts both), with the worker image on each; exports DOCKER_HOST
# (podman's) and CWO_DOCKER_ENGINE_HOST. Two steps, so that a failure stops the run.
runtime_env=$(bash scripts/container-runtime.sh --env)
eval "$runtime_env"
mkdir -p .cache
CWO_TEST_ENGINE=podman pnpm test --json --outputFile=.cache/jest-unit.json
# The web app's component tests (Vitest, jsdom); its browser tests are among the e2e tests.
pnpm test:web --reporter=default --reporter=json --outputFile.json="$PWD/.cache/vitest-web.json"
# The docker executor's tests again, on the Docker Engine.
pnpm test:docker-engine --json --outputFile=.cache/jest-docker-engine.json
pnpm test:e2e --json --outputFile=.cache/jest-e2e.json
# The chaos suite's short form (e2e/chaos, a few minutes): every fault injected while jobs run,
# each judged on its own. It writes .cache/chaos.json, and fails the run when a check failed.
rm -f .cache/chaos.json
pnpm chaos --short
# One closing line for the runs together (the chaos run counts one test per fault).
node -e '
  const files = [".cache/jest-unit.json", ".cache/vitest-web.json", ".cache/jest-docker-engine.json", ".cache/jest-e2e.json"].map((f) => require("./" + f));
  const sum = (k) => files.reduce((n, r) => n + r[k], 0);
  const chaos = require("./.cache/chaos.json");
  const held = chaos.reports.filter((r) => r.failures.length === 0).length;
  const failed = sum("numFailedTests") + chaos.reports.length - held;
  console.log(`tests: ${sum("numPassedTests") + held} passed, ${failed} failed (chaos: ${held} of ${chaos.reports.length} faults held)`);
'
