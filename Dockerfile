# heartbeat-sidecar, the daemon image.
#
#   docker build -t heartbeat-sidecar .
#   docker buildx build --platform linux/amd64,linux/arm64 \
#     --build-arg VERSION=1.2.3 --build-arg REVISION=$(git rev-parse HEAD) -t heartbeat-sidecar .
#
# .github/workflows/release.yml builds both platforms and publishes them on a v* tag.
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
# The platform of the machine that builds. BuildKit (buildx, Docker 23+) sets it; the classic
# builder does not, and takes it as `--build-arg BUILDPLATFORM=linux/arm64` (the lab passes it),
# else assumes linux/amd64.
ARG BUILDPLATFORM

# The build stage runs natively on the building machine, whatever the target: compiled JavaScript
# and a production node_modules without install scripts are the same for every CPU, so an arm64
# image needs no emulated npm ci or tsc. No install scripts means no native addon built for the
# wrong CPU; the only ones (ssh2's crypto binding, cpu-features) are optional accelerators of
# dockerode's SSH transport, which the daemon does not use.
FROM --platform=${BUILDPLATFORM:-linux/amd64} ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
COPY tsconfig.json tsconfig.build.json ./
COPY sidecar ./sidecar
# Compile the daemon without its unit tests (tsconfig.build.json), then drop the dev
# dependencies (TypeScript and friends).
RUN npx tsc -p tsconfig.build.json \
 && npm prune --omit=dev --no-audit --no-fund --loglevel=error

FROM ${NODE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends iproute2 iputils-arping iputils-ping tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
# Resident memory (README, Performance; docs/architecture.md, Memory). An idle daemon needs
# neither V8's default young generation nor its pool of helper threads (about 5 MB), nor its
# optimizing compilers, whose code and output cost about 10 MB: --no-opt and --no-maglev keep
# the bytecode interpreter and the Sparkplug baseline compiler (and WebAssembly, which dockerode's
# SSH transport compiles when a group protects a container), and --optimize-for-size saves about
# 1.5 MB more. Those three are flags NODE_OPTIONS refuses, so the ENTRYPOINT passes them.
# test/lab/sidecar.ts applies both to the lab's daemons, so the lab measures what ships.
ENV NODE_OPTIONS="--v8-pool-size=1 --max-semi-space-size=1"
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/sidecar ./dist/sidecar
# heartbeat-sidecar, Heartbeat's cl_status / hb_standby / hb_takeover, and the health probe.
COPY docker/heartbeat-sidecar docker/cl_status docker/hb_standby docker/hb_takeover docker/healthcheck /usr/local/bin/
# 694/udp: heartbeats (udpport). 9694/tcp: /status, /metrics, admin API (HB_API_PORT).
EXPOSE 694/udp 9694/tcp
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["healthcheck"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--no-opt", "--no-maglev", "--optimize-for-size", "/app/dist/sidecar/src/main.js"]
CMD ["run"]
# OCI annotations (https://specs.opencontainers.org/image-spec/annotations/). Version and
# revision come from the release (the workflow passes the tag and the commit); they are declared
# last so that a new release reuses every layer above.
ARG VERSION=dev
ARG REVISION=unknown
ARG SOURCE=
LABEL org.opencontainers.image.title="heartbeat-sidecar" \
      org.opencontainers.image.description="Keeps a service reachable on one shared IP across Docker hosts: authenticated UDP heartbeats, VIP with gratuitous ARP, Docker-driven failover." \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0"
