#!/usr/bin/env bash
# Prepares a fresh machine: the platform BLAS (OpenBLAS on Linux; Accelerate ships with Apple
# platforms), SQLite's headers for the search index, pdftotext for PDF text (poppler-utils),
# the embedding model and the Gemma 3 270M generator (fetched and verified once, then cached).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(uname -s)" = "Linux" ]; then
    missing=()
    if ! { [ -f /usr/include/x86_64-linux-gnu/cblas.h ] || [ -f /usr/include/cblas.h ] || [ -f /usr/include/aarch64-linux-gnu/cblas.h ]; } \
        || ! ls /usr/lib/*/libopenblas.so >/dev/null 2>&1; then
        missing+=(libopenblas-dev)
    fi
    [ -f /usr/include/sqlite3.h ] || missing+=(libsqlite3-dev)
    command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
    command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
    command -v unzip >/dev/null 2>&1 || missing+=(unzip)
    if [ ${#missing[@]} -gt 0 ]; then
        echo "installing ${missing[*]} ..." >&2
        sudo_cmd=""
        [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
        $sudo_cmd apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
fi

scripts/fetch-model.sh
scripts/fetch-generator.sh
# PostgreSQL 18 with pgvector for the PostgreSQL store's tests and benchmarks (Linux x86-64;
# unpacked once into a cache folder, nothing installed system-wide).
if [ "$(uname -s)" = "Linux" ] && [ "$(uname -m)" = "x86_64" ]; then
    scripts/postgres.sh install >/dev/null
fi
