#!/usr/bin/env python3
"""Checks that two gemma-embed binaries give bit-identical embeddings: every text of
../shared/golden/corpus.jsonl (with its prompt) through `gemma-embed embed --jsonl`, for the float32
model and the Q8_0 and calibrated Q4_0 GGUF files of scripts/bench-cpu.py (written once), at the full
width and at 128 dimensions. The outputs print every float32 in its shortest exact form, so equal
output bytes mean equal bits.

Usage:  scripts/compare-embeddings.py OLD_BINARY NEW_BINARY [--model DIR] [--files DIR] [--weights float32,q8_0,q4_0]
                                     [--widths 768,128]

Exit status 0 when every output is identical, 1 when any differs (the first differing text is named).
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CACHE = os.path.expanduser("~/.cache/embeddinggemma")
sys.path.insert(0, HERE)


def corpus(path):
    """The golden corpus as `embed --jsonl` input: text and prompt name."""
    rows = [json.loads(line) for line in open(os.path.join(ROOT, "..", "shared", "golden", "corpus.jsonl"), encoding="utf-8")]
    with open(path, "w", encoding="utf-8") as out:
        for row in rows:
            record = {"text": row["text"]}
            if row.get("prompt_name"):
                record["prompt_name"] = row["prompt_name"]
            out.write(json.dumps(record) + "\n")
    return path, len(rows)


def embed(binary, model, docs, width):
    command = [binary, "embed", "--model", model, "--input", docs, "--jsonl"]
    if width:
        command += ["--dimensions", str(width)]
    result = subprocess.run(command, capture_output=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {result.stderr.decode()[-2000:]}")
    return result.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--model", default=os.path.join(CACHE, "embeddinggemma-300m"))
    parser.add_argument("--files", default=os.path.join(CACHE, "bench"))
    parser.add_argument("--weights", default="float32,q8_0,q4_0", help="which of float32, q8_0, q4_0 to compare")
    parser.add_argument("--widths", default="768,128", help="Matryoshka widths to compare")
    args = parser.parse_args()
    kinds = args.weights.split(",")
    import importlib
    bench_cpu = importlib.import_module("bench-cpu")
    models = [(kind, args.model if kind == "float32" else bench_cpu.ensure_gguf(args.old, args.model, args.files, kind)) for kind in kinds]
    with tempfile.TemporaryDirectory() as folder:
        docs, count = corpus(os.path.join(folder, "corpus.jsonl"))
        failed = False
        for name, model in models:
            for width in [None if w == "768" else int(w) for w in args.widths.split(",")]:
                old, new = embed(args.old, model, docs, width), embed(args.new, model, docs, width)
                label = f"{name}{'' if width is None else f' @{width}'}"
                if old == new:
                    print(f"{label}: {count} vectors identical (sha256 {hashlib.sha256(new).hexdigest()[:16]})")
                else:
                    failed = True
                    old_lines, new_lines = old.splitlines(), new.splitlines()
                    first = next((i for i, (a, b) in enumerate(zip(old_lines, new_lines)) if a != b), min(len(old_lines), len(new_lines)))
                    print(f"{label}: DIFFERENT, first at text {first} of {count}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
