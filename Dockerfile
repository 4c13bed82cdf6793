# syntax=docker/dockerfile:1
# The Chorus gateway image (docs/deploy.md). Build:  docker build -t chorus-gateway:0.1.0 .
# Run:  docker run -p 8080:8080 -e CHORUS_ADMIN_TOKEN=... -v $PWD/gateway.yaml:/etc/chorus/gateway.yaml:ro chorus-gateway:0.1.0
#
# Node 24 runs the TypeScript sources directly (type stripping), as `npm start` and the tests do:
# no build step, so the image runs exactly the code the test suite ran.
ARG NODE_IMAGE=node:24-bookworm-slim

# Stage 1: production dependencies only, from the lockfile.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no production dependency needs an install script (the `node` devDependency
# that has one is not installed with --omit=dev).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && npm cache clean --force

# Stage 2: the runtime, without npm's cache or the build context.
FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    CHORUS_LOG_LEVEL=info
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
COPY schema ./schema
# The MediaCo demo providers (examples/mediaco/backends/serve.ts), used by deploy/compose.
COPY examples ./examples
# The default config; mount your own over it (a ConfigMap in Kubernetes).
COPY deploy/gateway.yaml /etc/chorus/gateway.yaml
# The official image's unprivileged user (uid 1000); nothing under /app is writable by it.
USER node
EXPOSE 8080
# Liveness only: /readyz (readiness) turns 503 while draining, which must not count as unhealthy.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM drains (server.drainDelay, then server.shutdownGrace): give the container at least
# their sum plus a margin before SIGKILL (docker stop -t 30; compose stop_grace_period: 30s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "bin/chorus.js"]
CMD ["start", "/etc/chorus/gateway.yaml"]
