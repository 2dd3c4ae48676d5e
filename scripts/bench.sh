#!/usr/bin/env bash
# The benchmark command: build pkg/ and run bench/run.mjs in headless Chromium.
# Usage: scripts/bench.sh [--runs N] [--repeat R] [--simd simd128]
# (--threads 2 adds both engines on 2 threads; build-pkg.sh builds the threads module too)
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build-pkg.sh
node bench/run.mjs "$@"
