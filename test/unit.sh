#!/usr/bin/env bash
# `npm run test:unit`: the tests that need neither root nor network namespaces, in seconds. No
# Debian packages and no build (tsx runs the sources): the pinned Node.js and node_modules only.
#
# Which files: every *.test.ts under sidecar/ and test/ except the lab suites, which are the ones
# that gate on the lab (requireLab, requireDockerLab, requireEtcdLab, labUnavailable,
# etcdLabUnavailable): namespaces, Docker engines, etcd, the benchmark. The seeded fault
# simulation runs 500 seeds here (HB_SIM_SEEDS overrides); `npm test` runs 10,000 and everything
# else.
set -euo pipefail
cd "$(dirname "$0")/.."
bash test/setup.sh --unit
source test/node-env.sh
mapfile -t files < <(find sidecar test -name '*.test.ts' -not -path '*/node_modules/*' | sort | xargs grep -LE 'require(Docker|Etcd)?Lab\(|[lL]abUnavailable\(')
export HB_SIM_SEEDS="${HB_SIM_SEEDS:-500}"
exec node --import tsx --test "${files[@]}"
