#!/usr/bin/env bash
# Sets up (first run: OpenBLAS, SQLite headers, pdftotext, model download) and runs every test in a
# release build: the fast tier (no weights), the exactness and retrieval tests against ../shared on
# the real model, the CLI tests, then the server with the real ollama / openai / LangChain /
# LlamaIndex clients from PyPI (scripts/test-clients.sh), and the web page in a real browser
# (scripts/test-browser.sh). The PostgreSQL store's tests run against a real PostgreSQL 18 with
# pgvector (scripts/postgres.sh) started here.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export EMBEDDINGGEMMA_REQUIRE_MODEL=1
# A PostgreSQL server with pgvector for the PostgreSQL store's tests, stopped when the run ends.
if [ "$(uname -s)" = "Linux" ] && [ "$(uname -m)" = "x86_64" ]; then
    GEMMA_TEST_POSTGRES_DIR="$(mktemp -d /tmp/gemma-pg.XXXXXX)"
    export GEMMA_TEST_POSTGRES_DIR EMBEDDINGGEMMA_REQUIRE_POSTGRES=1
    trap 'scripts/postgres.sh stop "$GEMMA_TEST_POSTGRES_DIR" >/dev/null 2>&1 || true; rm -rf "$GEMMA_TEST_POSTGRES_DIR"' EXIT
    scripts/postgres.sh start "$GEMMA_TEST_POSTGRES_DIR" >/dev/null
fi
# Fine-tuning references (sentence-transformers and PyTorch in .venv-reference, made once): one batch's
# loss and every gradient for the release tier's check of the backward pass (TrainingReferenceTests).
reference_dir="$(mktemp -d /tmp/gemma-reference.XXXXXX)"
cleanup_reference() { rm -rf "$reference_dir"; }
trap 'cleanup_reference; [ -n "${GEMMA_TEST_POSTGRES_DIR:-}" ] && { scripts/postgres.sh stop "$GEMMA_TEST_POSTGRES_DIR" >/dev/null 2>&1 || true; rm -rf "$GEMMA_TEST_POSTGRES_DIR"; }' EXIT
scripts/make-retrieval-pairs.py "$reference_dir/pairs" --gradient-pairs "$reference_dir/gradient-pairs.jsonl" >/dev/null
scripts/gradient-reference.py --pairs "$reference_dir/gradient-pairs.jsonl" --output "$reference_dir/gradient-reference.safetensors" >/dev/null
export GEMMA_GRADIENT_REFERENCE="$reference_dir/gradient-reference.safetensors" GEMMA_GRADIENT_PAIRS="$reference_dir/gradient-pairs.jsonl"
export EMBEDDINGGEMMA_REQUIRE_REFERENCE=1
# The replica test times servers through the in-process test client, which needs Swift's cooperative
# threads: it runs in a process of its own, not beside the suite's CPU-bound model tests. Arguments
# (a --filter, build options) go to one run of everything they select.
if [ "$#" -eq 0 ]; then
    swift test -c release --skip PostgresReplicaTests
    swift test -c release --skip-build --filter PostgresReplicaTests
else
    swift test -c release "$@"
fi
# A fine-tuned folder loads in sentence-transformers and gives gemma-embed's embeddings (cosine ≥ 0.99999).
bin="$(swift build -c release --show-bin-path)/gemma-embed"
"$bin" finetune --pairs "$reference_dir/gradient-pairs.jsonl" --output "$reference_dir/finetuned" --batch-size 16 --learning-rate 1e-4
scripts/check-finetuned.py "$reference_dir/finetuned" --binary "$bin"
GEMMA_EMBED_BIN="$(swift build -c release --show-bin-path)/gemma-embed" scripts/test-clients.sh
GEMMA_EMBED_BIN="$(swift build -c release --show-bin-path)/gemma-embed" scripts/test-browser.sh
