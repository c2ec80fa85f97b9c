#!/usr/bin/env python3
"""A fine-tuned folder written by `gemma-embed finetune` loads in sentence-transformers and gives the
same embeddings as `gemma-embed embed --model` on it.

Usage:  scripts/check-finetuned.py MODEL_DIR [--binary .build/release/gemma-embed] [--min-cosine 0.99999]

Runs in the reference environment (scripts/referencelib.py). Encodes a few texts (several languages,
short and long) with sentence-transformers' SentenceTransformer(MODEL_DIR) under the query and
document prompts, and with the project's CLI; prints the lowest cosine and exits non-zero when it is
below --min-cosine.
"""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import referencelib  # noqa: E402

TEXTS = [
    "Which planet is known as the Red Planet?",
    "Mars, known for its reddish appearance, is often referred to as the Red Planet.",
    "Outil de sauvegarde incrémentale pour les serveurs",
    "Werkzeug zur Verwaltung von Paketquellen",
    "日本語の入力メソッド",
    "A longer document. " + "It repeats a sentence about sliding-window attention in the encoder layers. " * 40,
]


def main():
    referencelib.ensure_venv()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--binary", default=os.path.join(referencelib.ROOT, ".build", "release", "gemma-embed"))
    parser.add_argument("--min-cosine", type=float, default=0.99999)
    args = parser.parse_args()

    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer
    torch.set_num_threads(2)
    model = SentenceTransformer(args.model, device="cpu")
    worst = 1.0
    for name in ("query", "document"):
        reference = model.encode(TEXTS, prompt_name=name, normalize_embeddings=True)
        lines = "".join(json.dumps({"text": t, "prompt_name": name}) + "\n" for t in TEXTS)
        result = subprocess.run([args.binary, "embed", "--model", args.model, "--jsonl", "--input", "-"],
                                input=lines, capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit(f"gemma-embed embed failed: {result.stderr}")
        ours = np.array([json.loads(line)["embedding"] for line in result.stdout.splitlines() if line.strip()], dtype=np.float64)
        cosines = (ours * reference).sum(axis=1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(reference, axis=1))
        worst = min(worst, float(cosines.min()))
    print(json.dumps({"model": args.model, "texts": len(TEXTS) * 2, "min_cosine": worst}))
    if worst < args.min_cosine:
        sys.exit(f"lowest cosine {worst:.7f} is below {args.min_cosine}")
    print(f"sentence-transformers loads {args.model}; lowest cosine with gemma-embed {worst:.7f}", file=sys.stderr)


if __name__ == "__main__":
    main()
