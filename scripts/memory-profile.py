#!/usr/bin/env python3
"""Measures the memory of `gemma-embed embed` over 300 documents of up to 2048 tokens, split the way a
phone counts it: the peak resident set (VmHWM), and at its high-water marks the private anonymous memory
(heap, activations, thread stacks: what a phone calls dirty memory) apart from the file-backed pages
(the memory-mapped weights, which the system can drop and read again).

Usage:  scripts/memory-profile.py [--bin PATH ...] [--model DIR] [--files DIR] [--runs N]
                                  [--variants f32,q8_0,q4_0,q4_0@128] [--docs FILE]

Each --bin is measured on every variant, alternating binaries run by run (so two builds compare in one
sitting). The documents are made once from ../shared/search-eval/docs (deterministic: package
descriptions joined until each reaches its target length, 295 short ones spread log-uniformly from 16
to 256 tokens and 5 long ones from 600 to 2200, so the longest are truncated to 2048); the Q8_0 and calibrated Q4_0 files are those of
scripts/bench-cpu.py (written once with `gemma-embed quantize`). The process's /proc/PID/status is read
every 2 ms while it runs. Prints a Markdown table: medians over --runs runs, in MB.
"""
import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CACHE = os.path.expanduser("~/.cache/embeddinggemma")
sys.path.insert(0, HERE)


def log(message):
    print(message, file=sys.stderr, flush=True)


def make_documents(path):
    """300 documents from the search-eval descriptions, about 4 characters a token."""
    folder = os.path.join(ROOT, "..", "shared", "search-eval", "docs")
    texts = [open(os.path.join(folder, name), encoding="utf-8").read().strip() for name in sorted(os.listdir(folder))]
    rng = random.Random(300)
    # 295 log-uniform from 16 to 256 tokens and 5 from 600 to 2200 (many short, a few long, the longest
    # cut to 2048): about 25 000 tokens.
    targets = [int(16 * (256 / 16) ** (i / 294)) for i in range(295)] + [600 + 400 * i for i in range(5)]
    rng.shuffle(targets)
    source = 0
    with open(path, "w", encoding="utf-8") as out:
        for tokens in targets:
            parts, length = [], 0
            while length < tokens * 4:
                parts.append(texts[source % len(texts)])
                length += len(parts[-1]) + 2
                source += 1
            out.write(json.dumps({"text": "\n\n".join(parts)[: tokens * 4], "prompt_name": "document"}) + "\n")
    return path


def status(pid):
    """VmHWM, RssAnon and RssFile of a running process, in kB (None once it has ended)."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            fields = dict(line.split(":", 1) for line in handle if ":" in line)
    except (FileNotFoundError, ProcessLookupError):
        return None
    def kb(name):
        return int(fields.get(name, "0 kB").split()[0])
    return kb("VmHWM"), kb("RssAnon"), kb("RssFile")


def measure(binary, model, docs, dimensions):
    """Peak RSS, and the largest anonymous and file-backed parts seen, in MB; and the wall time."""
    command = [binary, "embed", "--model", model, "--input", docs, "--jsonl", "--output", os.devnull]
    if dimensions:
        command += ["--dimensions", str(dimensions)]
    start = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = anon = file = 0
    while process.poll() is None:
        sample = status(process.pid)
        if sample:
            peak, anon, file = max(peak, sample[0]), max(anon, sample[1]), max(file, sample[2])
        time.sleep(0.002)
    wall = time.monotonic() - start
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}): {process.stderr.read().decode()[-2000:]}")
    return peak / 1024, anon / 1024, file / 1024, wall


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", action="append", help="gemma-embed binaries to compare (default: the release build)")
    parser.add_argument("--model", default=os.path.join(CACHE, "embeddinggemma-300m"))
    parser.add_argument("--files", default=os.path.join(CACHE, "bench"), help="where the GGUF files are written once")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--variants", default="f32,q8_0,q4_0,q4_0@128",
                        help="comma-separated: f32, q8_0, q4_0, each optionally @WIDTH (Matryoshka dimensions)")
    parser.add_argument("--docs", help="a JSON Lines file of {text, prompt_name} to embed instead")
    args = parser.parse_args()

    binaries = args.bin or [os.path.join(ROOT, ".build", "release", "gemma-embed")]
    docs = args.docs or make_documents(os.path.join(CACHE, "memory-profile-docs.jsonl"))
    import importlib
    bench_cpu = importlib.import_module("bench-cpu")
    files = {}
    variants = []
    for spec in args.variants.split(","):
        kind, _, width = spec.partition("@")
        if kind == "f32":
            path = args.model
        else:
            files.setdefault(kind, bench_cpu.ensure_gguf(binaries[0], args.model, args.files, kind))
            path = files[kind]
        variants.append((spec, path, int(width) if width else None))

    results = {}
    for run in range(args.runs):
        for spec, path, width in variants:
            for binary in binaries:
                figures = measure(binary, path, docs, width)
                results.setdefault((binary, spec), []).append(figures)
                log(f"run {run + 1} {spec} {binary}: peak {figures[0]:.1f} MB, anonymous {figures[1]:.1f}, "
                    f"file-backed {figures[2]:.1f}, {figures[3]:.1f} s")

    info = bench_cpu.cpu_info()
    cpu = f"{info.get('model name', '?')} (family {info.get('cpu family', '?')} model {info.get('model', '?')})"
    print(f"Memory of `gemma-embed embed` over 300 documents of up to 2048 tokens ({os.path.basename(docs)}), "
          f"medians of {args.runs} runs, MB{'; ' + cpu if cpu else ''}:\n")
    print("| binary | weights | peak RSS | largest anonymous (private) | largest file-backed | wall s |")
    print("|---|---|---|---|---|---|")
    for spec, _, _ in variants:
        for binary in binaries:
            rows = results[(binary, spec)]
            medians = [statistics.median(row[i] for row in rows) for i in range(4)]
            print(f"| {binary} | {spec} | {medians[0]:.1f} | {medians[1]:.1f} | {medians[2]:.1f} | {medians[3]:.1f} |")


if __name__ == "__main__":
    main()
