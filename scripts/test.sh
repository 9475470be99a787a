#!/usr/bin/env bash
# The whole test suite: set up, build with the test-only switches (fault injection, invariant
# checkers: -DENGRAM_TESTING) in release mode, and run every test. Extra arguments go to `swift test`
# (for example `--filter EngramStorageTests`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The MiniLM tests need the model files; they fail (not skip) without them.
bash scripts/install-model.sh
# A separate build folder, so that the demo's plain release build and this one do not rebuild each other.
flags=(-c release --scratch-path .build-test -Xswiftc -DENGRAM_TESTING)
swift build "${flags[@]}" --build-tests
swift test "${flags[@]}" --skip-build "$@"
