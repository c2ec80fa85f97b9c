#!/usr/bin/env python3
"""Classification and routing quality on ../shared/classify-eval: the scikit-learn anchor and the
project's own trainer and router, measured in the same sitting.

Usage:  scripts/classify-reference.py [--binary .build/release/gemma-embed] [--model DIR]
                                      [--q8 FILE] [--q4 FILE] [--skip-reference] [--skip-project]

Creates (once) the virtual environment $GEMMA_REFERENCE_VENV, by default .venv-reference
(sentence-transformers, a CPU build of torch, scikit-learn; see referencelib.py), then
  anchor:  sentence-transformers embeds train and test with the model's Classification prompt
           (normalised; 256 = Matryoshka-cut and renormalised), scikit-learn's
           LogisticRegression(max_iter=1000) is fitted on train, accuracy and macro-F1 on test;
  project: `gemma-embed classify train` / `classify predict` with the float32 model, Q8_0 and
           Q4_0 GGUF files at 768 and 256 dimensions, the same figures;
  routing: the training set as routes (one route per label, its texts as examples) and the test
           texts as queries, through `gemma-embed route`: accuracy of the nearest route, and
           accuracy (precision) / coverage at the calibrated threshold; nearest-example and
           centroid scoring; float32, Q8_0, Q4_0, down to 128 dimensions with Q4_0.
Prints one table (and writes it as JSON to classify-reference.json in a temporary folder).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from referencelib import CLASSIFY_EVAL as EVAL, ROOT, classification_probe, ensure_venv, load_model, read_jsonl

CACHE = os.path.expanduser("~/.cache/embeddinggemma")


def scores(predicted, truth):
    from sklearn.metrics import accuracy_score, f1_score
    return accuracy_score(truth, predicted), f1_score(truth, predicted, average="macro")


def reference(model_dir, train, test):
    import sentence_transformers
    import sklearn

    model = load_model(model_dir)
    start = time.time()
    probe = classification_probe(model, train, test)
    seconds = time.time() - start
    rows = [{"what": "sklearn anchor", "weights": "float32 (sentence-transformers)", "dimensions": r["dimensions"],
             "accuracy": r["accuracy"], "macro_f1": r["macro_f1"]} for r in probe]
    engine = f"sentence-transformers {sentence_transformers.__version__}, scikit-learn {sklearn.__version__}"
    return rows, engine, seconds


def run(binary, args):
    result = subprocess.run([binary] + args, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"gemma-embed {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result


def project(binary, models, train, test, folder):
    texts = os.path.join(folder, "test.txt")
    with open(texts, "w", encoding="utf-8") as f:
        f.write("\n".join(e["text"] for e in test) + "\n")
    truth = [e["label"] for e in test]
    rows = []
    for name, path in models:
        for width in (768, 256):
            clf = os.path.join(folder, f"clf-{name}-{width}.json")
            start = time.time()
            trained = run(binary, ["classify", "train", "--examples", os.path.join(EVAL, "train.jsonl"), "--output", clf,
                                   "--dimensions", str(width), "--model", path])
            train_seconds = time.time() - start
            predicted = run(binary, ["classify", "predict", "--classifier", clf, "--input", texts, "--model", path])
            labels = [json.loads(line)["label"] for line in predicted.stdout.splitlines() if line.strip()]
            acc, f1 = scores(labels, truth)
            head = json.load(open(clf))["training"]
            rows.append({"what": "gemma-embed classify", "weights": name, "dimensions": width, "accuracy": acc, "macro_f1": f1,
                         "train_command_seconds": round(train_seconds, 1), "head_seconds": head["seconds"],
                         "iterations": head["iterations"], "stderr": trained.stderr.strip().splitlines()[-1:]})
            print(f"  {name} {width}: accuracy {acc:.4f}, macro-F1 {f1:.4f}", file=sys.stderr)
    return rows


def routing(binary, models, train, test, folder, configs=None):
    os.makedirs(folder, exist_ok=True)
    routes = {}
    for e in train:
        routes.setdefault(e["label"], []).append(e["text"])
    path = os.path.join(folder, "routes.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"routes": [{"name": k, "examples": v} for k, v in sorted(routes.items())], "threshold": None}, f)
    texts = os.path.join(folder, "test.txt")
    truth = [e["label"] for e in test]
    if configs is None:
        # Both scorings with the float32 model (which is better), the default (centroid) with the quantized files.
        configs = [(m, w, s) for m in models for w in (768, 256) for s in (("nearest", "centroid") if m[0] == "float32" else ("centroid",))]
        configs += [(m, 128, "centroid") for m in models if m[0] == "Q4_0"]
    rows = []
    for (name, model), width, scoring in configs:
        common = ["--routes", path, "--dimensions", str(width), "--model", model, "--scoring", scoring]
        calibration = json.loads(run(binary, ["route", "calibrate", "--json"] + common).stdout)
        out = run(binary, ["route", "--input", texts] + common).stdout
        matches = [json.loads(line) for line in out.splitlines() if line.strip()]
        nearest = sum(m["nearest"] == t for m, t in zip(matches, truth)) / len(truth)
        routed = [(m["route"], t) for m, t in zip(matches, truth) if m["route"] is not None]
        precision = sum(r == t for r, t in routed) / len(routed) if routed else 0.0
        rows.append({"what": "gemma-embed route", "weights": name, "dimensions": width, "scoring": scoring,
                     "accuracy": nearest, "threshold": calibration["threshold"], "routed_accuracy": precision,
                     "coverage": len(routed) / len(truth), "loo_accuracy": calibration["accuracy"],
                     "loo_precision": calibration["chosen"]["precision"], "loo_coverage": calibration["chosen"]["coverage"]})
        print(f"  route {name} {width} {scoring}: accuracy {nearest:.4f}, at threshold {calibration['threshold']:.4f}: "
              f"accuracy {precision:.4f}, coverage {len(routed) / len(truth):.4f}", file=sys.stderr)
    return rows


def main():
    ensure_venv()
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "gemma-embed"))
    parser.add_argument("--model", default=os.path.join(CACHE, "embeddinggemma-300m"))
    parser.add_argument("--q8", default=os.path.join(CACHE, "bench", "embeddinggemma-q8_0.gguf"))
    parser.add_argument("--q4", default=os.path.join(CACHE, "bench", "embeddinggemma-q4_0.gguf"))
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument("--skip-project", action="store_true")
    args = parser.parse_args()
    train, test = read_jsonl(os.path.join(EVAL, "train.jsonl")), read_jsonl(os.path.join(EVAL, "test.jsonl"))
    rows, engine = [], None
    if not args.skip_reference:
        anchor, engine, seconds = reference(args.model, train, test)
        rows += anchor
        print(f"anchor: {engine}, embedded in {seconds:.1f} s", file=sys.stderr)
    if not args.skip_project:
        models = [("float32", args.model), ("Q8_0", args.q8), ("Q4_0", args.q4)]
        folder = tempfile.mkdtemp(prefix="classify-reference-")
        rows += project(args.binary, models, train, test, folder)
        rows += routing(args.binary, models, train, test, folder)
        with open(os.path.join(folder, "classify-reference.json"), "w") as f:
            json.dump({"anchor_engine": engine, "rows": rows}, f, indent=1)
        print(f"figures written to {folder}/classify-reference.json", file=sys.stderr)
    print(f"| what | weights | dims | accuracy | macro-F1 |")
    print(f"|---|---|---:|---:|---:|")
    for r in rows:
        if "macro_f1" in r:
            print(f"| {r['what']} | {r['weights']} | {r['dimensions']} | {r['accuracy']:.4f} | {r['macro_f1']:.4f} |")
    print()
    print("| routing | weights | dims | scoring | accuracy (nearest) | threshold | accuracy at threshold | coverage |")
    print("|---|---|---:|---|---:|---:|---:|---:|")
    for r in rows:
        if "scoring" in r:
            print(f"| route | {r['weights']} | {r['dimensions']} | {r['scoring']} | {r['accuracy']:.4f} | {r['threshold']:.4f} | "
                  f"{r['routed_accuracy']:.4f} | {r['coverage']:.4f} |")


if __name__ == "__main__":
    main()
