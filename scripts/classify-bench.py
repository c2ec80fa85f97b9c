#!/usr/bin/env python3
"""Speed of classification and routing (issue 26): the head's training time after embedding, per-query
latency of classify and route in a warm process, and /api/classify under concurrent clients.

Usage:  scripts/classify-bench.py [--binary .build/release/gemma-embed] [--model FILE] [--dimensions 256]
                                  [--queries 200] [--clients 32] [--per-client 20]

Runs, with --model (the Q8_0 GGUF file by default) at --dimensions:
  1. `gemma-embed classify train` on ../shared/classify-eval/train.jsonl (336 examples): the solver's
     seconds after embedding (recorded in the classifier file) and the whole command's;
  2. `gemma-embed serve --classifier eval=clf.json --routes routes.json` (the training set as routes)
     on a free loopback port; after a warm-up, --queries single-text requests one after another to
     /api/classify, /api/route and /api/embed (the embedding alone, for comparison): p50 and p99 in ms
     (the difference to /api/embed is the head, the routing and their JSON);
  3. --clients concurrent clients sending --per-client single-text /api/classify requests each:
     throughput and p50/p99 latency.
Standard library only; the CPU is printed with the figures.
"""
import argparse
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EVAL = os.path.join(os.path.dirname(ROOT), "shared", "classify-eval")
CACHE = os.path.expanduser("~/.cache/embeddinggemma")


def cpu_name():
    """The model name with its family and model numbers (and the vector extensions that matter here)."""
    fields = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        return platform.processor() or "unknown CPU"
    flags = set(fields.get("flags", "").split())
    extensions = [name for name in ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8") if name in flags]
    return (f"{fields.get('model name', 'unknown CPU')} (family {fields.get('cpu family', '?')} model {fields.get('model', '?')}; "
            f"{', '.join(extensions) or 'no AVX2'})")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(port, path, body):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as response:
        response.read()
    return (time.perf_counter() - start) * 1000


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "gemma-embed"))
    parser.add_argument("--model", default=os.path.join(CACHE, "bench", "embeddinggemma-q8_0.gguf"))
    parser.add_argument("--dimensions", type=int, default=256)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--per-client", type=int, default=20)
    args = parser.parse_args()

    with open(os.path.join(EVAL, "train.jsonl")) as f:
        train = [json.loads(line) for line in f if line.strip()]
    with open(os.path.join(EVAL, "test.jsonl")) as f:
        queries = [json.loads(line)["text"] for line in f if line.strip()]
    folder = tempfile.mkdtemp(prefix="classify-bench-")
    clf = os.path.join(folder, "clf.json")
    start = time.perf_counter()
    subprocess.run([args.binary, "classify", "train", "--examples", os.path.join(EVAL, "train.jsonl"), "--output", clf,
                    "--model", args.model, "--dimensions", str(args.dimensions)], check=True, stderr=subprocess.DEVNULL)
    command_seconds = time.perf_counter() - start
    head = json.load(open(clf))["training"]
    routes = {}
    for e in train:
        routes.setdefault(e["label"], []).append(e["text"])
    routes_file = os.path.join(folder, "routes.json")
    with open(routes_file, "w") as f:
        json.dump({"routes": [{"name": k, "examples": v} for k, v in sorted(routes.items())]}, f)

    port = free_port()
    server = subprocess.Popen([args.binary, "serve", "--port", str(port), "--model", args.model, "--classifier", f"eval={clf}",
                               "--routes", routes_file, "--route-dimensions", str(args.dimensions)], stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).read()
                break
            except OSError:
                time.sleep(0.5)
        rows = []
        bodies = {
            "/api/classify": lambda q: {"classifier": "eval", "input": q},
            "/api/route": lambda q: {"input": q},
            "/api/embed": lambda q: {"model": "embeddinggemma", "input": q, "dimensions": args.dimensions,
                                     "prompt": "task: classification | query: "},
        }
        for path, body in bodies.items():
            for q in queries[:10]:
                post(port, path, body(q))
            times = [post(port, path, body(queries[i % len(queries)])) for i in range(args.queries)]
            rows.append((path, statistics.median(times), percentile(times, 99)))

        latencies, lock = [], threading.Lock()

        def client(index):
            mine = []
            for i in range(args.per_client):
                mine.append(post(port, "/api/classify", {"classifier": "eval", "input": queries[(index * args.per_client + i) % len(queries)]}))
            with lock:
                latencies.extend(mine)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)

    print(f"CPU: {cpu_name()}, {os.cpu_count()} threads; model {os.path.basename(args.model)}, {args.dimensions} dimensions")
    print(f"classify train (336 examples): head {head['seconds']:.3f} s after embedding ({head['iterations']} iterations); "
          f"whole command {command_seconds:.1f} s")
    print("| request (one query, sequential) | p50 ms | p99 ms |")
    print("|---|---:|---:|")
    for path, p50, p99 in rows:
        print(f"| {path} | {p50:.2f} | {p99:.2f} |")
    print(f"/api/classify under {args.clients} clients: {len(latencies) / wall:.1f} requests/s, "
          f"p50 {statistics.median(latencies):.1f} ms, p99 {percentile(latencies, 99):.1f} ms")


if __name__ == "__main__":
    sys.exit(main())
