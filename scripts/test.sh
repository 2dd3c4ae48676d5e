#!/usr/bin/env bash
# The test command: installs what is missing (scripts/setup.sh), then runs every test.
#   native: unit + integration tests, the LFW accuracy gate when ../shared/data/lfw-dev exists
#   browser: wasm-bindgen tests in headless Chromium
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$PATH"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "native tests (cargo test --release)"
cargo test --release --all-targets

step "browser tests (wasm-pack test --headless --chrome --release)"
wasm-pack test --headless --chrome --release --test web

step "all tests passed"
