#!/usr/bin/env bash
# The test command: installs what is missing (scripts/setup.sh), then runs every test.
#   1. native: unit, integration and property tests of the library, the CLI and the server;
#      the LFW accuracy gate when ../shared/data/lfw-dev exists (skipped, saying so, if not)
#   2. browser: wasm-bindgen tests in headless Chromium (wasm equals native, JS errors), built
#      with wasm SIMD and again with relaxed SIMD (the two modules the package ships)
#   3. package: build pkg/, then end-to-end tests in headless Chromium with a fake camera
#      (demo app + relying-party server + network audit), a fresh Vite app using the packed
#      tarball, the Node verifier, the relying party under a request flood, and the browser
#      and Node APIs' arguments fuzzed, and the package in Chromium, Firefox and WebKit
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$PATH"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
SECONDS=0

# The LFW accuracy gate runs on lfw-dev (research-use data, never committed) where it exists.
if [ -z "${FACEPROOF_LFW_DIR:-}" ] && [ -f ../shared/data/lfw-dev/pairs.tsv ]; then
  export FACEPROOF_LFW_DIR="$PWD/../shared/data/lfw-dev"
fi
echo "lfw-dev: ${FACEPROOF_LFW_DIR:-absent (the accuracy gate skips)}"

step "native tests (cargo test --release --workspace)"
cargo test --release --workspace --all-targets --exclude faceproof-rten --exclude faceproof-rten-gemm

step "the engine fork's own unit tests (third_party/rten, third_party/rten-gemm), with faceproof's features"
cargo test --release -p faceproof-rten -p faceproof-rten-gemm --no-default-features \
  --features faceproof-rten/onnx_format,faceproof-rten/int8-pointwise,faceproof-rten/f32-direct

step "browser tests (wasm-pack test --headless --chrome --release)"
wasm-pack test --headless --chrome --release --test web
step "browser tests, relaxed-SIMD build"
CARGO_TARGET_DIR=target/relaxed-simd RUSTFLAGS="-C target-feature=+simd128,+relaxed-simd" \
  wasm-pack test --headless --chrome --release --test web

step "npm package (scripts/build-pkg.sh) and end-to-end tests"
./scripts/build-pkg.sh
node tests/e2e/readme-types.mjs
node tests/e2e/load-progress.mjs
cargo build --release -p faceproof-server -p faceproof-cli
cargo build --release -p faceproof --example fake_camera
node tests/e2e/demo.mjs
node tests/e2e/vite.mjs
node tests/e2e/threads.mjs
node tests/e2e/node-verifier.mjs
node tests/e2e/verifier-fuzz.mjs
node tests/e2e/api-fuzz.mjs
node tests/e2e/rp-load.mjs
node tests/e2e/browsers.mjs

step "all tests passed in $((SECONDS / 60)) min $((SECONDS % 60)) s"
