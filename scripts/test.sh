#!/usr/bin/env bash
# Sets up (first run: OpenBLAS, SQLite headers, pdftotext, model download) and runs every test in a
# release build: the fast tier (no weights), the exactness and retrieval tests against ../shared on
# the real model, the CLI tests, then the server with the real ollama / openai / LangChain /
# LlamaIndex clients from PyPI (scripts/test-clients.sh), and the web page in a real browser
# (scripts/test-browser.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export EMBEDDINGGEMMA_REQUIRE_MODEL=1
swift test -c release "$@"
GEMMA_EMBED_BIN="$(swift build -c release --show-bin-path)/gemma-embed" scripts/test-clients.sh
GEMMA_EMBED_BIN="$(swift build -c release --show-bin-path)/gemma-embed" scripts/test-browser.sh
