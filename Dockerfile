# syntax=docker/dockerfile:1
#
# One multi-stage Dockerfile for every app: the workspace is built once (the apps share the libs and one lockfile),
# and each app is a target of its own that differs only in what it runs.
#
#   docker build --target orders        -t notifications/orders .
#   docker build --target email-sender  -t notifications/email-sender .
#   docker build --target status-poller -t notifications/status-poller .
#   docker build --target acs-emulator  -t notifications/acs-emulator .
#
# (`docker compose build` builds all four.) Every image also holds the operator CLI (apps/ops):
#   kubectl exec deploy/orders -- node apps/ops/dist/main.js --help
#
# At run time the libs are npm workspaces resolved through node_modules/@notifications/* symlinks to libs/*, whose
# package.json `exports` point at dist/ (the `@notifications/source` condition is only for type-checking and Jest),
# so the runtime image holds, per workspace: package.json + dist/, plus the production node_modules.
# See deploy/README.md; deploy/test/dockerfile.spec.ts checks this file.

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS base
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false

# Only the package manifests, so that the dependency layers below are rebuilt when a manifest changes and not on
# every source edit (the stage itself re-runs, but its output is unchanged and the next COPY hits the cache).
FROM base AS manifests
COPY . /src
RUN cd /src \
  && find . -name package.json -not -path '*/node_modules/*' -exec cp --parents {} /app/ \; \
  && cp package-lock.json /app/

# All dependencies, for compiling: `npm ci`, exactly the committed lockfile, as .ci/run installs it (the lockfile
# lists every platform's optional binaries; npm installs the image platform's only). No install scripts are needed
# to run tsc.
FROM base AS build-deps
COPY --from=manifests /app/ /app/
RUN npm ci --ignore-scripts --no-audit --no-fund

FROM build-deps AS build
COPY . .
# What `nx run <app>:build` runs (tsc --build over the project references, libs included); then drop what only
# type-checking needs.
RUN npx tsc --build \
    apps/orders/tsconfig.app.json \
    apps/email-sender/tsconfig.app.json \
    apps/status-poller/tsconfig.app.json \
    apps/acs-emulator/tsconfig.app.json \
    apps/ops/tsconfig.app.json \
  && find apps/*/dist libs/*/dist \( -name '*.d.ts' -o -name '*.d.ts.map' -o -name '*.tsbuildinfo' \) -delete

# Production dependencies only (no TypeScript, Jest, Nx, ESLint, embedded PostgreSQL).
FROM base AS prod-deps
COPY --from=manifests /app/ /app/
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && rm -rf /root/.npm

# What every app image shares. Files stay owned by root and read-only for the app user: the process cannot
# modify its own code (and Kubernetes mounts the root filesystem read-only anyway).
FROM ${NODE_IMAGE} AS runtime
# tini as PID 1: forwards SIGTERM to node (the apps drain their Kafka consumers on it) and reaps zombies.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps \
    HOST=0.0.0.0
COPY --from=prod-deps /app/ /app/
# Every lib an app or the CLI depends on at run time (deploy/test checks the list against the package.json files).
COPY --from=build /app/libs/acs/dist libs/acs/dist
COPY --from=build /app/libs/config/dist libs/config/dist
COPY --from=build /app/libs/contracts/dist libs/contracts/dist
COPY --from=build /app/libs/database/dist libs/database/dist
COPY --from=build /app/libs/health/dist libs/health/dist
COPY --from=build /app/libs/messaging/dist libs/messaging/dist
COPY --from=build /app/libs/observability/dist libs/observability/dist
COPY --from=build /app/apps/ops/dist apps/ops/dist
# The image's `node` user (uid/gid 1000), numeric so that Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
ENTRYPOINT ["/usr/bin/tini", "--"]
# Liveness without curl/wget (the slim image has neither): Node's fetch against the app's own /health/live.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PORT+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

FROM runtime AS acs-emulator
COPY --from=build /app/apps/acs-emulator/dist apps/acs-emulator/dist
ENV PORT=5099
EXPOSE 5099
CMD ["node", "apps/acs-emulator/dist/main.js"]

FROM runtime AS email-sender
COPY --from=build /app/apps/email-sender/dist apps/email-sender/dist
# The app's heap cap (as in its package.json `nodeArgs` and deploy/k8s):
# README "Operating", Memory.
ENV NODE_OPTIONS="--enable-source-maps --max-old-space-size=160 --max-semi-space-size=16"
ENV PORT=5091
EXPOSE 5091
CMD ["node", "apps/email-sender/dist/main.js"]

FROM runtime AS status-poller
COPY --from=build /app/apps/status-poller/dist apps/status-poller/dist
ENV NODE_OPTIONS="--enable-source-maps --max-old-space-size=160 --max-semi-space-size=16"
ENV PORT=5092
EXPOSE 5092
CMD ["node", "apps/status-poller/dist/main.js"]

# Last, so that a plain `docker build .` produces the orders image. Migrations run from the same image:
#   node apps/orders/dist/migrate.js [run|revert|show|check]
FROM runtime AS orders
COPY --from=build /app/apps/orders/dist apps/orders/dist
ENV NODE_OPTIONS="--enable-source-maps --max-old-space-size=160 --max-semi-space-size=16"
ENV PORT=5090
EXPOSE 5090
CMD ["node", "apps/orders/dist/main.js"]
