#!/usr/bin/env python3
"""Measures the sentence-transformers anchor on the project's W1/W2 workloads.

Usage:  scripts/bench-reference.py [--model DIR] [--threads N]

Creates (once) a virtual environment in .venv-reference with sentence-transformers and a CPU
build of torch, then runs, in float32 on the CPU:
  W1: 64 documents of 256 tokens (document prompt included), batch size 16;
  W2: one short query with the query prompt, p50/p99 over 50 calls after warm-up.
The documents are built the same way as `gemma-embed bench` builds them (same word list and
generator), so both engines see the same token counts.
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VENV = os.path.join(ROOT, ".venv-reference")

WORDS = ["system", "file", "network", "memory", "the", "of", "copy", "directory", "server", "cannot",
         "option", "invalid", "stream", "output", "read", "write", "error", "user", "time", "value",
         "search", "planet", "model", "vector", "query", "document", "red", "local", "private", "fast"]


def ensure_venv():
    python = os.path.join(VENV, "bin", "python")
    if os.environ.get("BENCH_REFERENCE_IN_VENV") == "1":
        return
    if not os.path.exists(python):
        subprocess.check_call([sys.executable, "-m", "venv", VENV])
        subprocess.check_call([python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
        subprocess.check_call([python, "-m", "pip", "install", "--quiet", "sentence-transformers", "psutil"])
    env = dict(os.environ, BENCH_REFERENCE_IN_VENV="1")
    os.execve(python, [python, os.path.abspath(__file__)] + sys.argv[1:], env)


class Generator:
    """The 64-bit LCG of gemma-embed bench (BenchCommand.documents)."""

    def __init__(self):
        self.state = 0x9E3779B97F4A7C15

    def next(self):
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        return self.state >> 33


def documents(tokenizer, prompt, count, tokens):
    gen = Generator()
    docs = []
    for _ in range(count):
        pool = [WORDS[gen.next() % len(WORDS)] for _ in range(tokens * 2)]

        def length(n):
            return len(tokenizer(prompt + " ".join(pool[:n]))["input_ids"])

        low, high = 0, len(pool)
        while low < high:
            mid = (low + high + 1) // 2
            if length(mid) <= tokens:
                low = mid
            else:
                high = mid - 1
        docs.append(" ".join(pool[:low]))
    return docs


def main():
    ensure_venv()
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=os.environ.get("EMBEDDINGGEMMA_MODEL",
                                                         os.path.expanduser("~/.cache/embeddinggemma/embeddinggemma-300m")))
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()

    import psutil
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(args.threads)
    model = SentenceTransformer(args.model, device="cpu")
    model = model.float()
    doc_prompt = model.prompts["document"]
    docs = documents(model.tokenizer, doc_prompt, 64, 256)
    total = sum(len(model.tokenizer(doc_prompt + d)["input_ids"]) for d in docs)

    model.encode(docs[:16], prompt_name="document", batch_size=16)
    start = time.perf_counter()
    model.encode(docs, prompt_name="document", batch_size=16)
    w1 = time.perf_counter() - start

    query = "red planet facts"
    qtokens = len(model.tokenizer(model.prompts["query"] + query)["input_ids"])
    for _ in range(3):
        model.encode([query], prompt_name="query")
    samples = []
    for _ in range(50):
        start = time.perf_counter()
        model.encode([query], prompt_name="query")
        samples.append(time.perf_counter() - start)
    samples.sort()

    result = {
        "engine": f"sentence-transformers {__import__('sentence_transformers').__version__} / torch {torch.__version__}",
        "threads": args.threads,
        "W1": {"texts": 64, "tokens": total, "seconds": w1, "tokens_per_s": total / w1, "texts_per_s": 64 / w1},
        "W2": {"tokens": qtokens, "p50_ms": samples[len(samples) // 2] * 1000, "p99_ms": samples[int(len(samples) * 0.99) - 1] * 1000},
        "peak_rss_mb": psutil.Process().memory_info().rss / 2**20,
    }
    if hasattr(__import__("resource"), "getrusage"):
        import resource
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
