#!/usr/bin/env bash
# Build the npm package into pkg/ (not committed):
#   browser: wasm (SIMD, inference; + a relaxed-SIMD twin) + JS API (index.js, worker.js) + TypeScript types + models
#   node:    the relying-party verifier (no inference) under pkg/node/, entry verifier.cjs
# Usage: scripts/build-pkg.sh [--dev]   (--dev skips wasm-opt for a faster build)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
OPT=()
[ "${1:-}" = "--dev" ] && OPT=(--no-opt)

rm -rf pkg
wasm-pack build --release --target web --out-dir pkg --out-name faceproof_wasm --no-pack "${OPT[@]}" \
  -- --no-default-features --features inference
# the same module with relaxed SIMD (fused multiply-add in rten's kernels), for browsers that
# have it (js/worker.js detects it); its own target dir keeps both builds cached
CARGO_TARGET_DIR=target/relaxed-simd RUSTFLAGS="-C target-feature=+simd128,+relaxed-simd" \
  wasm-pack build --release --target web --out-dir target/pkg-relaxed --out-name faceproof_wasm --no-pack "${OPT[@]}" \
  -- --no-default-features --features inference
cmp -s target/pkg-relaxed/faceproof_wasm.js pkg/faceproof_wasm.js || { echo "the two builds' JS glue differ" >&2; exit 1; }
cp target/pkg-relaxed/faceproof_wasm_bg.wasm pkg/faceproof_wasm_relaxed_bg.wasm
wasm-pack build --release --target nodejs --out-dir pkg/node --out-name faceproof_verifier --no-pack "${OPT[@]}" \
  -- --no-default-features
rm -f pkg/.gitignore pkg/node/.gitignore pkg/README.md pkg/node/README.md
# the Node build is CommonJS inside an ES-module package
echo '{ "type": "commonjs" }' > pkg/node/package.json
cp js/index.js js/index.d.ts js/worker.js js/features.js js/device-secret.js js/verifier.cjs js/verifier.d.ts js/package.json pkg/
mkdir -p pkg/models
# the shipped weights: PReLU folded, int8/fp16 weights (tools/web_models.py; README "Size")
cp models/web/*.onnx models/LICENSE* pkg/models/
cp models/SOURCES.md pkg/LICENSES.md
cp README.md pkg/README.md
echo "pkg/ built: $(du -sh pkg | cut -f1)"
