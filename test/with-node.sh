#!/usr/bin/env bash
# Runs a command with the pinned Node.js (test/node/) first on PATH, as the tests and the lab
# use it: `bash test/with-node.sh node --import tsx test/bench/run.ts --quick`.
set -euo pipefail
source "$(dirname "$0")/node-env.sh"
exec "$@"
