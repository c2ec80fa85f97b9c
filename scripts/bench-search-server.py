#!/usr/bin/env python3
"""Search latency of `gemma-embed serve --index` on loopback, bounded in time.

Usage: scripts/bench-search-server.py --bin .build/release/gemma-embed --index INDEX
           [--queries 300] [--clients 32] [--seconds 20] [--update-files 1000] [--words-file FILE]

Starts the server on a free loopback port with the index (its recorded model embeds the
queries) and, for the update phase, `--watch` on a temporary folder. Measures:
  1. one client, sequential queries: the server's own search time (took_ms − embed_ms: the
     index's work) and the query embedding (embed_ms), p50/p99;
  2. `--clients` concurrent clients for `--seconds`: queries/s and latency p50/p99;
  3. the delay from saving a file in the watched folder to a search finding it (`--edits` files);
  4. the same as 1 and 2 while `--update-files` new files (about 120 words each) are indexed into the
     watched folder, through the server's batching queue.
Stops the server with SIGTERM at the end. Standard library only.
"""
import argparse, json, os, random, signal, socket, subprocess, sys, tempfile, threading, time, urllib.request

from benchlib import free_port, post

WORDS = ("system file network memory copy directory server option stream output read write error user "
         "time value index search query answer model vector table row column kernel thread process signal "
         "socket packet route mail editor graphics sound video science math game database").split()




def get(url):
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] if values else float("nan")


def query_text(rng):
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 5)))


def single(base, n, seed):
    rng = random.Random(seed)
    server, embed, total = [], [], []
    for _ in range(n):
        start = time.perf_counter()
        answer = post(base + "/api/search", {"query": query_text(rng), "k": 10})
        total.append((time.perf_counter() - start) * 1000)
        embed.append(answer["embed_ms"])
        server.append(answer["took_ms"] - answer["embed_ms"])
    return server, embed, total


def concurrent(base, clients, seconds, seed):
    latencies, errors = [], [0]
    lock = threading.Lock()
    deadline = time.time() + seconds

    def worker(k):
        rng = random.Random(seed * 1000 + k)
        while time.time() < deadline:
            start = time.perf_counter()
            try:
                post(base + "/api/search", {"query": query_text(rng), "k": 10})
                with lock:
                    latencies.append((time.perf_counter() - start) * 1000)
            except Exception:
                with lock:
                    errors[0] += 1

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    start = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(latencies) / (time.time() - start), latencies, errors[0]


def report(label, server, embed, total, qps, latencies, errors):
    print(f"{label}: one client: index work p50 {pct(server, .5):.1f} ms, p99 {pct(server, .99):.1f} ms; "
          f"query embedding p50 {pct(embed, .5):.1f} ms, p99 {pct(embed, .99):.1f} ms; round trip p50 {pct(total, .5):.1f} ms")
    print(f"{label}: {args.clients} clients: {qps:.1f} queries/s, latency p50 {pct(latencies, .5):.0f} ms, "
          f"p99 {pct(latencies, .99):.0f} ms, errors {errors}")
    sys.stdout.flush()


parser = argparse.ArgumentParser()
parser.add_argument("--bin", required=True)
parser.add_argument("--index", required=True)
parser.add_argument("--queries", type=int, default=300)
parser.add_argument("--clients", type=int, default=32)
parser.add_argument("--seconds", type=float, default=20)
parser.add_argument("--update-files", type=int, default=1000)
parser.add_argument("--edits", type=int, default=20)
args = parser.parse_args()

port = free_port()
base = f"http://127.0.0.1:{port}"
watched = tempfile.mkdtemp(prefix="bench-watch-")
log = open(os.path.join(watched, "..", "bench-search-server.log"), "w")
server = subprocess.Popen([args.bin, "serve", "--host", "127.0.0.1", "--port", str(port), "--index", args.index,
                           "--watch", watched], stdout=log, stderr=log)
try:
    for _ in range(600):
        try:
            get(base + "/api/index")
            break
        except Exception:
            time.sleep(0.2)
    else:
        sys.exit("the server did not start")
    # Wait for the watcher's first (empty) update, then warm up.
    single(base, 20, 0)
    status = get(base + "/api/index")
    print(f"index: {status['chunks']} chunks, {status['quantization']} model, {status['dimensions']} dimensions")
    s, e, t = single(base, args.queries, 1)
    qps, lat, err = concurrent(base, args.clients, args.seconds, 2)
    report("idle", s, e, t, qps, lat, err)

    # A file saved in the watched folder: time until a search finds it (its own rare word).
    delays = []
    for n in range(args.edits):
        word = f"quokka{n}x{random.randint(0, 10**9)}"
        path = os.path.join(watched, f"edit{n}.txt")
        start = time.perf_counter()
        with open(path, "w") as f:
            f.write(f"note {n}: the {word} entry\n")
        while time.perf_counter() - start < 30:
            hits = post(base + "/api/search", {"query": word, "k": 3, "lexical_weight": 5})["hits"]
            if hits and hits[0]["path"] == os.path.abspath(path):
                break
            time.sleep(0.05)
        delays.append(time.perf_counter() - start)
        time.sleep(0.5)
    if delays:
        print(f"watching: saved file searchable after p50 {pct(delays, .5):.2f} s, max {max(delays):.2f} s over {len(delays)} edits")

    if args.update_files > 0:
        rng = random.Random(7)
        for n in range(args.update_files):
            with open(os.path.join(watched, f"doc{n:05d}.txt"), "w") as f:
                for line in range(10):
                    f.write(" ".join(rng.choice(WORDS) for _ in range(12)) + "\n")
        # Measure while the update runs (the first phase starts as soon as the files are written).
        started = time.time()
        s, e, t = single(base, args.queries // 2, 3)
        qps, lat, err = concurrent(base, args.clients, args.seconds, 4)
        status = get(base + "/api/index")
        running = status.get("update") is not None
        report(f"during a {args.update_files}-file update" + ("" if running else " (it ended before the phase did)"), s, e, t, qps, lat, err)
        update = status.get("update") or {}
        print(f"after {time.time() - started:.0f} s: the update had written {update.get('files_processed', 'all')} of "
              f"{update.get('files_to_process', args.update_files)} files (the server stops now; a restart would finish it)")
finally:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        server.kill()
