#!/usr/bin/env bash
# The demo command: installs what is missing, builds the npm package and the relying-party
# server, and serves the demo e-KYC app on http://localhost:8080 (a secure context: the
# camera works). Ctrl-C stops it. The SQLite database is server/data/faceproof.sqlite.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build-pkg.sh
cargo build --release -p faceproof-server
exec ./target/release/faceproof-server --port "${PORT:-8080}" --www www --pkg pkg "$@"
