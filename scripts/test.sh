#!/usr/bin/env bash
# Sets up (first run: OpenBLAS, model download) and runs every test in a release build:
# the fast tier (no weights) and the exactness tests against ../shared/golden on the real model.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export EMBEDDINGGEMMA_REQUIRE_MODEL=1
swift test -c release "$@"
