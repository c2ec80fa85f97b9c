#!/usr/bin/env bash
# Prepares a fresh machine: the platform BLAS (OpenBLAS on Linux; Accelerate ships with Apple
# platforms) and the model (fetched and verified once, then cached).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(uname -s)" = "Linux" ]; then
    if ! { [ -f /usr/include/x86_64-linux-gnu/cblas.h ] || [ -f /usr/include/cblas.h ] || [ -f /usr/include/aarch64-linux-gnu/cblas.h ]; } \
        || ! ls /usr/lib/*/libopenblas.so >/dev/null 2>&1; then
        echo "installing OpenBLAS (libopenblas-dev) ..." >&2
        sudo_cmd=""
        [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
        $sudo_cmd apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq libopenblas-dev pkg-config >/dev/null
    fi
fi

scripts/fetch-model.sh
