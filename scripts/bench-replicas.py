#!/usr/bin/env python3
"""Throughput of 1 and 2 `gemma-embed serve` replicas on one PostgreSQL index, on loopback, bounded.

Usage: scripts/bench-replicas.py --bin .build/release/gemma-embed --index postgres://... \
           [--clients 64] [--seconds 30] [--replicas 1 2]

For each replica count: starts that many servers on free loopback ports with `--index URL` (each
loads the index's recorded model and embeds its own queries), runs `--clients` concurrent clients
for `--seconds` sending `/api/search` requests (2-5 random words, k 10) to the replicas in turn,
and prints searches/s and latency p50/p99; then stops the servers with SIGTERM. Every response must
be 200 with hits. Standard library only.
"""
import argparse, random, signal, subprocess, sys, threading, time

from benchlib import free_port, post

WORDS = ("system file network memory copy directory server option stream output read write error user "
         "time value index search query answer model vector table row column kernel thread process signal").split()


def start(binary, index, port):
    process = subprocess.Popen([binary, "serve", "--index", index, "--host", "127.0.0.1", "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            post(f"http://127.0.0.1:{port}/api/search", {"query": "warm up", "k": 1}, timeout=60)
            return process
        except Exception:
            if process.poll() is not None:
                sys.exit(f"server on port {port} exited with {process.returncode}")
            time.sleep(0.5)
    process.kill()
    sys.exit(f"server on port {port} did not answer within 120 s")


def run(ports, clients, seconds):
    latencies, failures = [], []
    lock = threading.Lock()
    end = time.time() + seconds

    def client(number):
        rng = random.Random(number)
        n = 0
        while time.time() < end:
            port = ports[(number + n) % len(ports)]
            query = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 5)))
            started = time.perf_counter()
            try:
                body = post(f"http://127.0.0.1:{port}/api/search", {"query": query, "k": 10}, timeout=120)
                ok = bool(body.get("hits"))  # any non-2xx status raised
            except Exception as error:  # a failure is counted and shown, never hidden
                ok, body = False, str(error)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                if ok:
                    latencies.append(elapsed)
                else:
                    failures.append(body)
            n += 1

    started = time.time()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.time() - started
    latencies.sort()
    pick = lambda p: latencies[min(len(latencies) - 1, int(len(latencies) * p))] if latencies else float("nan")
    return len(latencies) / wall, pick(0.5), pick(0.99), failures


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=".build/release/gemma-embed")
    parser.add_argument("--index", required=True)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    print(f"CPU: {cpu}, {len(__import__('os').sched_getaffinity(0))} cores; {args.clients} clients for {args.seconds:.0f} s")
    for count in args.replicas:
        ports = [free_port() for _ in range(count)]
        servers = [start(args.bin, args.index, port) for port in ports]
        try:
            rate, p50, p99, failures = run(ports, args.clients, args.seconds)
        finally:
            for server in servers:
                server.send_signal(signal.SIGTERM)
            for server in servers:
                try:
                    server.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    server.kill()
        print(f"{count} replica{'s' if count > 1 else ''}: {rate:.1f} searches/s, p50 {p50:.0f} ms, p99 {p99:.0f} ms, "
              f"{len(failures)} failed" + (f" (first: {failures[0]})" if failures else ""))


if __name__ == "__main__":
    main()
