# The monorepo's images for docker compose (docker-compose.yml):
#   --target app     the API and the runner (`node apps/api/dist/main.js`, `node apps/runner/dist/main.js`)
#   --target worker  the worker container the runner starts per job (CODEX_WORKER_IMAGE)
# Build context: the repository root (see .dockerignore).
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /repo
ENV TURBO_TELEMETRY_DISABLED=1
COPY package.json ./
RUN npm install -g "pnpm@$(node -p "require('./package.json').packageManager.split('@')[1]")"
COPY . .
RUN pnpm install --frozen-lockfile \
 && pnpm build \
 && node scripts/worker-image-stage.js /worker-context

FROM ${NODE_IMAGE} AS app
# git: the runner commits each job to the project history, the API serves the diffs.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /repo
ENV NODE_ENV=production
COPY --from=build /repo /repo
EXPOSE 8000
CMD ["node", "apps/api/dist/main.js"]

# The same image as worker-image/Dockerfile (built there from a staged context by
# `pnpm worker:build`): keep the two alike.
FROM ${NODE_IMAGE} AS worker
# What checks of ordinary projects need (docs/checks.md): the base image of container-runtime.sh
# carries the same Debian packages.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-pytest git \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    HOME=/tmp \
    WORKER_AGENT=dummy
COPY --from=build /worker-context/node_modules/ /opt/cwo-worker/node_modules/
COPY --from=build /worker-context/dist/ /opt/cwo-worker/dist/
WORKDIR /workspace
USER 1000:1000
ENTRYPOINT ["node", "/opt/cwo-worker/dist/main.js"]
