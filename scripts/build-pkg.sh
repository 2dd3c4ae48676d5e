#!/usr/bin/env bash
# Build the npm package into pkg/ (not committed):
#   browser: wasm (SIMD, inference; + a relaxed-SIMD twin; + the threads build in threads/) + JS API (index.js,
#            worker.js) + TypeScript types + models
#   node:    the relying-party verifier (no inference) under pkg/node/, entry verifier.cjs
# Usage: scripts/build-pkg.sh [--dev] [--no-threads]   (--dev skips wasm-opt for a faster build;
#        --no-threads skips the threads build, see below)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
OPT=()
THREADS=1
for arg in "$@"; do
  case "$arg" in
    --dev) OPT=(--no-opt) ;;
    --threads) THREADS=1 ;; # the default (kept for old commands)
    --no-threads) THREADS=0 ;;
    *) echo "usage: scripts/build-pkg.sh [--dev] [--no-threads]" >&2; exit 2 ;;
  esac
done

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
# The threads build (relaxed SIMD + wasm atomics: rayon's pool on Web Workers sharing the memory)
# into pkg/threads/: js/worker.js loads it for `FaceProof.create({threads: 2})` on cross-origin
# isolated pages (docs/performance.md, "Threads"); `node bench/run.mjs --threads 2` measures it. std must be
# rebuilt with atomics: `-Z build-std` is a nightly flag, enabled on this stable toolchain with
# RUSTC_BOOTSTRAP=1 (needs the rust-src component, see scripts/setup.sh).
if [ "$THREADS" = 1 ]; then
  THREADS_FLAGS="-C target-feature=+atomics,+bulk-memory,+mutable-globals,+simd128,+relaxed-simd"
  for a in --shared-memory --import-memory --max-memory=1073741824 --export=__wasm_init_tls \
           --export=__tls_size --export=__tls_align --export=__tls_base; do
    THREADS_FLAGS="$THREADS_FLAGS -C link-arg=$a"
  done
  RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=target/threads RUSTFLAGS="$THREADS_FLAGS" \
    wasm-pack build --release --target web --out-dir target/pkg-threads --out-name faceproof_wasm --no-pack "${OPT[@]}" \
    -- --no-default-features --features threads -Z build-std=panic_abort,std
  mkdir -p pkg/threads
  cp -r target/pkg-threads/faceproof_wasm.js target/pkg-threads/faceproof_wasm_bg.wasm target/pkg-threads/snippets pkg/threads/
fi
cp js/index.js js/index.d.ts js/errors.js js/worker.js js/features.js js/device-secret.js js/device-secret.d.ts js/verifier.cjs js/verifier.d.ts js/package.json pkg/
mkdir -p pkg/models
# the shipped weights: PReLU folded, int8/fp16 weights (tools/web_models.py; docs/performance.md)
cp models/web/*.onnx models/LICENSE* pkg/models/
# the sizes of what FaceProof.create() downloads, for onProgress's total known from the start
(
  cd pkg
  echo "// Byte sizes of the package's files that FaceProof.create() downloads, for onProgress's total"
  echo "// (written by scripts/build-pkg.sh)."
  echo "export const FILE_SIZES = Object.freeze({"
  for f in faceproof_wasm_bg.wasm faceproof_wasm_relaxed_bg.wasm threads/faceproof_wasm_bg.wasm models/*.onnx; do
    if [ -f "$f" ]; then echo "  '$f': $(wc -c < "$f" | tr -d ' '),"; fi
  done
  echo "});"
) > pkg/sizes.js
cp models/SOURCES.md pkg/LICENSES.md
cp README.md pkg/README.md
echo "pkg/ built: $(du -sh pkg | cut -f1)"
