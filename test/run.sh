#!/usr/bin/env bash
# The README's test command: type-check, then every unit and lab test in one node:test run.
# Lab tests need root; with CI=true a suite that cannot run fails instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
bash test/setup.sh
# tsc, the tests and the lab's daemons (started with the tests' own node) run on the pinned Node.
source test/node-env.sh
# Build (type-checking as it goes): the lab runs the compiled daemon from dist/.
npx tsc -p tsconfig.json
mapfile -t files < <(find sidecar test -name '*.test.ts' -not -path '*/node_modules/*' | sort)
exec node --import tsx --test --test-concurrency=1 "${files[@]}"
