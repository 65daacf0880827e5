# heartbeat-sidecar, the daemon image.
#
#   docker build -t heartbeat-sidecar .
#
# NODE_IMAGE swaps the base: any Debian image with node (26 or later) and npm on PATH. The default
# is Node 26, the Active LTS (Node 20 ended in April 2026), on Debian 13 trixie: the official
# images' default Debian for Node 26, and Debian's stable release, supported beyond Node 26's end
# of life (April 2029), where bookworm left regular security support in June 2026. The tests, the
# lab and CI run the same major (test/node/); the lab builds this file with a registry-free copy.
# The runtime adds only what the daemon runs: `ip` (iproute2), `arping` (iputils-arping), `ping`
# for ping nodes (iputils-ping), and tini as PID 1 so that `docker stop`'s SIGTERM reaches the
# daemon (Node as PID 1 would also have to reap every `ip` and `arping` it runs).
ARG NODE_IMAGE=node:26-trixie-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY tsconfig.json ./
COPY sidecar ./sidecar
# Compile, drop the tests and source maps, then the dev dependencies (TypeScript and friends).
RUN npx tsc -p tsconfig.json \
 && find dist \( -name '*.test.js' -o -name '*.map' \) -delete \
 && npm prune --omit=dev --no-audit --no-fund --loglevel=error

FROM ${NODE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends iproute2 iputils-arping iputils-ping tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
# An idle daemon needs neither V8's default young generation nor its pool of helper threads:
# about 5 MB less resident memory, measured in the lab (test/lab/sidecar.ts applies the same).
ENV NODE_OPTIONS="--v8-pool-size=1 --max-semi-space-size=1"
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/sidecar ./dist/sidecar
# heartbeat-sidecar, Heartbeat's cl_status / hb_standby / hb_takeover, and the health probe.
COPY docker/heartbeat-sidecar docker/cl_status docker/hb_standby docker/hb_takeover docker/healthcheck /usr/local/bin/
# 694/udp: heartbeats (udpport). 9694/tcp: /status, /metrics, admin API (HB_API_PORT).
EXPOSE 694/udp 9694/tcp
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["healthcheck"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/sidecar/src/main.js"]
CMD ["run"]
