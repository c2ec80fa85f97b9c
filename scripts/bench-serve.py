#!/usr/bin/env python3
"""Bounded load on `gemma-embed serve` (loopback only): N concurrent clients for a fixed time.

Usage: scripts/bench-serve.py --url http://127.0.0.1:11434 [--clients 64] [--seconds 60] [--kind query|document|mix]

Each client posts to /api/embed in a loop until the time is up (then it stops by itself): `query`
sends a 12-token query, `document` a 256-token document, `mix` alternates per client. Prints
requests/s, inputs' tokens/s (the server's prompt_eval_count), latency p50/p99 per kind, and errors
by status (503s are the queue's intended back-pressure). Needs httpx (in .venv-clients).
"""
import argparse, asyncio, json, statistics, time
import httpx

WORDS = ["system", "file", "network", "memory", "the", "of", "copy", "directory", "server", "cannot",
         "option", "invalid", "stream", "output", "read", "write", "error", "user", "time", "value"]


def document(i):
    return " ".join(WORDS[(i * 7 + j * 3) % len(WORDS)] for j in range(250))


async def client(http, url, kind, deadline, results, index):
    n = 0
    while time.monotonic() < deadline:
        this = kind if kind != "mix" else ("query" if index % 2 else "document")
        text = "red planet facts please" if this == "query" else document(index * 1000 + n)
        body = {"model": "embeddinggemma:" + ("query" if this == "query" else "document"), "input": text}
        start = time.monotonic()
        try:
            response = await http.post(url + "/api/embed", json=body)
            status = response.status_code
            tokens = response.json().get("prompt_eval_count", 0) if status == 200 else 0
        except httpx.HTTPError:
            status, tokens = "transport", 0
        results.append((this, status, time.monotonic() - start, tokens))
        n += 1


async def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default="http://127.0.0.1:11434")
    p.add_argument("--clients", type=int, default=64)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--kind", choices=["query", "document", "mix"], default="query")
    a = p.parse_args()
    if not a.url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        raise SystemExit("load is only sent to loopback addresses")
    results = []
    limits = httpx.Limits(max_connections=a.clients, max_keepalive_connections=a.clients)
    async with httpx.AsyncClient(timeout=120, limits=limits) as http:
        deadline = time.monotonic() + a.seconds
        start = time.monotonic()
        await asyncio.gather(*(client(http, a.url, a.kind, deadline, results, i) for i in range(a.clients)))
        elapsed = time.monotonic() - start
    ok = [r for r in results if r[1] == 200]
    report = {"clients": a.clients, "seconds": round(elapsed, 1), "kind": a.kind, "requests": len(results),
              "requests_per_s": round(len(ok) / elapsed, 2), "tokens_per_s": round(sum(r[3] for r in ok) / elapsed, 1),
              "errors": {str(s): sum(1 for r in results if r[1] == s) for s in {r[1] for r in results} if s != 200}}
    for kind in ("query", "document"):
        lat = sorted(r[2] for r in ok if r[0] == kind)
        if lat:
            report[kind + "_p50_ms"] = round(1000 * lat[len(lat) // 2], 1)
            report[kind + "_p99_ms"] = round(1000 * lat[min(len(lat) - 1, int(len(lat) * 0.99))], 1)
    print(json.dumps(report))


if __name__ == "__main__":
    asyncio.run(main())
