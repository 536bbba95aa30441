#!/usr/bin/env bash
# `pnpm worker:build`: builds the worker image (CODEX_WORKER_IMAGE, default codex-worker:latest)
# from worker-image/Dockerfile and a staged context (scripts/worker-image-stage.js). Skips the
# build when an image built from the same context exists.
#
# Which builder:
#   - WORKER_BUILD_CLI=docker|podman, if set;
#   - podman with this checkout's runtime (scripts/container-runtime.sh) when it has been set up,
#     so the image lands where the executor's DOCKER_HOST looks;
#   - docker otherwise (a machine with a Docker engine).
# Base image: CWO_WORKER_BASE_IMAGE if set (the registry-free base here), else the Dockerfile's
# default node:20-bookworm-slim.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
say() { echo "worker-image: $*" >&2; }

IMAGE=${CODEX_WORKER_IMAGE:-codex-worker:latest}
RUNTIME_ENV="${CWO_CONTAINERS_DIR:-$ROOT/.cache/containers}/env.sh"
CLI=${WORKER_BUILD_CLI:-}
if [ -z "$CLI" ]; then
  if [ -f "$RUNTIME_ENV" ] && command -v podman >/dev/null 2>&1; then CLI=podman; else CLI=docker; fi
fi
if [ "$CLI" = podman ] && [ -z "${CONTAINERS_STORAGE_CONF:-}" ] && [ -f "$RUNTIME_ENV" ]; then
  # shellcheck disable=SC1090
  source "$RUNTIME_ENV"
fi
command -v "$CLI" >/dev/null 2>&1 || { say "$CLI is not installed"; exit 1; }

STAGE="$ROOT/.cache/worker-image"
mkdir -p "$STAGE"
exec 8>"$STAGE/.lock"
flock 8

started_at=$(date +%s%N)
hash=$(node scripts/worker-image-stage.js "$STAGE/context")
base_args=()
base_id=node:20-bookworm-slim
if [ -n "${CWO_WORKER_BASE_IMAGE:-}" ]; then
  base_args=(--build-arg "BASE_IMAGE=$CWO_WORKER_BASE_IMAGE")
  base_id=$("$CLI" image inspect --format '{{.Id}}' "$CWO_WORKER_BASE_IMAGE")
fi
# The label identifies the context and the base it was built on.
tag="$hash-$(printf '%s' "$base_id" | sha256sum | cut -c1-12)"
current=$("$CLI" image inspect --format '{{ index .Config.Labels "cwo.worker.build" }}' "$IMAGE" 2>/dev/null || true)
if [ "$current" = "$tag" ]; then
  say "$IMAGE is up to date ($tag)"
  exit 0
fi

say "building $IMAGE with $CLI (context $STAGE/context)"
network_args=()
# Nothing is fetched during the build (no RUN step); podman can then build on a host with no
# network set up at all.
[ "$CLI" = podman ] && network_args=(--network=none)
"$CLI" build "${network_args[@]}" "${base_args[@]}" \
  --label "cwo.worker.build=$tag" -t "$IMAGE" -f "$STAGE/context/Dockerfile" "$STAGE/context" >&2
say "built $IMAGE in $(( ($(date +%s%N) - started_at) / 1000000 )) ms"
