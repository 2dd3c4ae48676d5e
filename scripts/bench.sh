#!/usr/bin/env bash
# The benchmark command: build pkg/ and run bench/run.mjs in headless Chromium.
# Usage: scripts/bench.sh [--runs N] [--repeat R] [--simd simd128]
# (threads experiment: scripts/build-pkg.sh --threads && node bench/run.mjs --threads 2)
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build-pkg.sh
node bench/run.mjs "$@"
