#!/usr/bin/env bash
# `npm run demo`: installs what is missing, builds, then runs a two-host failover in network
# namespaces that it creates and deletes. Needs root (namespaces, addresses).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash test/setup.sh
# tsc, the demo and its daemons run on the pinned Node (test/node/, the image's major).
source test/node-env.sh
npx tsc -p tsconfig.json
exec node --import tsx test/lab/demo.ts
