#!/usr/bin/env bash
# The main job: set up, build, and run `engram demo` on a store in ./engram-demo-store.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "demo: building engram (release) …" >&2
swift build -c release --product engram 2>&1 | grep -E "error|warning: unre|Compiling|Build complete" >&2 || true
test -x .build/release/engram || { echo "demo: the build failed; run 'swift build -c release' to see why" >&2; exit 1; }
exec .build/release/engram demo --db "${ENGRAM_DEMO_DB:-engram-demo-store}"
