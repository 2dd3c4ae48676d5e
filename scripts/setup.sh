#!/usr/bin/env bash
# Install everything the demo and the tests need, idempotently, on a fresh Debian machine:
# Chromium + ChromeDriver, Firefox ESR and WebKitGTK (apt), the wasm32 target and rust-src, wasm-pack, wasm-bindgen-cli at the exact
# version in Cargo.lock, and the npm dev tools (binaryen's wasm-opt, playwright-core,
# onnxruntime-web for the benchmark, TypeScript for the type check of the README). Safe to run again: each step checks first.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# 1. Browsers for headless tests (Debian's builds; test tools' own browser downloads fail here):
#    Chromium + ChromeDriver, Firefox ESR, WebKitGTK's MiniBrowser under a virtual display (xvfb).
WEBKIT=/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null || ! command -v firefox-esr >/dev/null \
  || [ ! -x "$WEBKIT" ] || ! command -v xvfb-run >/dev/null; then
  say "apt: chromium chromium-driver firefox-esr libwebkit2gtk-4.1-0 xvfb"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver firefox-esr libwebkit2gtk-4.1-0 xvfb >/dev/null
fi

# 2. Rust: wasm target.
if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$'; then
  say "rustup: wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# 2b. rust-src: the threads build recompiles std with atomics (scripts/build-pkg.sh).
if ! rustup component list --installed | grep -q '^rust-src'; then
  say "rustup: rust-src"
  rustup component add rust-src
fi

# 3. wasm-pack.
if ! command -v wasm-pack >/dev/null; then
  say "cargo install wasm-pack (about 3 minutes)"
  cargo install wasm-pack --locked
fi

# 4. wasm-bindgen-cli must equal the wasm-bindgen in Cargo.lock (pinned with "=X" in Cargo.toml).
WB=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/[^0-9.]/, ""); print; exit}' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WB" ]; then
  say "cargo install wasm-bindgen-cli $WB (about 4 minutes)"
  # --locked fails for this crate on this toolchain; the version itself is pinned.
  cargo install wasm-bindgen-cli --version "$WB" --force
fi

# 5. npm dev tools (exact versions from package-lock.json). npm's binaryen provides wasm-opt;
#    never Debian's binaryen, which silently breaks wasm-bindgen output.
if [ ! -x node_modules/.bin/wasm-opt ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci (binaryen, playwright-core, onnxruntime-web, typescript)"
  npm ci --no-audit --no-fund --loglevel=error
fi
say "ready: $(chromium --version 2>/dev/null | head -1); wasm-pack $(wasm-pack --version | awk '{print $2}'); wasm-bindgen $WB"
