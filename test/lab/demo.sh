#!/usr/bin/env bash
# `npm run demo`: installs what is missing, builds, then runs a two-host failover in network
# namespaces that it creates and deletes. Needs root (namespaces, addresses).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash test/setup.sh
npx tsc -p tsconfig.json
exec node --import tsx test/lab/demo.ts
