#!/usr/bin/env python3
"""Bounded load on `gemma-embed serve` (loopback only): N concurrent clients for a fixed time.

Usage: scripts/bench-serve.py --url http://127.0.0.1:11434 [--clients 64] [--seconds 60]
           [--kind query|document|mix] [--api ollama|openai] [--path /v1/embeddings] [--pid PID]

Each client posts one text per request in a loop until the time is up (then it stops by itself):
`query` sends a 12-token query, `document` a 256-token document, `mix` gives half the clients
queries and half documents. `--api ollama` posts to /api/embed and picks the prompt with the model
tag (embeddinggemma:query / :document); `--api openai` posts OpenAI's body to `--path` with the
prompt written into the text (for servers that cannot apply prompts, such as infinity-emb), so the
token counts match. Prints requests/s, tokens/s (the server's prompt_eval_count or
usage.prompt_tokens), latency p50/p99 per kind, errors by status (503s are the queue's intended
back-pressure) and, with --pid, the server's resident memory (first and last ten seconds, peak).
Needs httpx (in .venv-clients).
"""
import argparse, asyncio, json, time
import httpx

QUERY_PROMPT = "task: search result | query: "
DOCUMENT_PROMPT = "title: none | text: "

WORDS = ["system", "file", "network", "memory", "the", "of", "copy", "directory", "server", "cannot",
         "option", "invalid", "stream", "output", "read", "write", "error", "user", "time", "value"]


def document(i):
    return " ".join(WORDS[(i * 7 + j * 3) % len(WORDS)] for j in range(250))


def request(a, kind, text):
    """(path, body) of one request."""
    if a.api == "ollama":
        return "/api/embed", {"model": "embeddinggemma:" + kind, "input": text}
    prompt = QUERY_PROMPT if kind == "query" else DOCUMENT_PROMPT
    return a.path, {"model": a.model, "input": [prompt + text]}


def tokens_of(a, answer):
    if a.api == "ollama":
        return answer.get("prompt_eval_count", 0)
    return (answer.get("usage") or {}).get("prompt_tokens", 0)


async def client(http, a, deadline, results, index):
    n = 0
    while time.monotonic() < deadline:
        this = a.kind if a.kind != "mix" else ("query" if index % 2 else "document")
        text = f"red planet facts {index % 10} please" if this == "query" else document(index * 1000 + n)
        path, body = request(a, this, text)
        start = time.monotonic()
        try:
            response = await http.post(a.url + path, json=body)
            status = response.status_code
            tokens = tokens_of(a, response.json()) if status == 200 else 0
        except httpx.HTTPError:
            status, tokens = "transport", 0
        results.append((this, status, time.monotonic() - start, tokens))
        n += 1


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def sample_rss(pid, done, samples):
    while not done.is_set():
        samples.append((time.monotonic(), rss_mb(pid)))
        try:
            await asyncio.wait_for(done.wait(), 1)
        except asyncio.TimeoutError:
            pass


async def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default="http://127.0.0.1:11434")
    p.add_argument("--clients", type=int, default=64)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--kind", choices=["query", "document", "mix"], default="query")
    p.add_argument("--api", choices=["ollama", "openai"], default="ollama")
    p.add_argument("--path", default="/v1/embeddings", help="route of --api openai")
    p.add_argument("--model", default="embeddinggemma", help="model name of --api openai")
    p.add_argument("--pid", type=int, help="server process whose resident memory to sample")
    a = p.parse_args()
    if not a.url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        raise SystemExit("load is only sent to loopback addresses")
    results = []
    limits = httpx.Limits(max_connections=a.clients, max_keepalive_connections=a.clients)
    async with httpx.AsyncClient(timeout=120, limits=limits) as http:
        # One warm-up request (not counted) so that a lazy server's loading is not measured.
        path, body = request(a, "query", "warm up")
        (await http.post(a.url + path, json=body)).raise_for_status()
        deadline = time.monotonic() + a.seconds
        start = time.monotonic()
        samples, done = [], asyncio.Event()
        sampler = asyncio.create_task(sample_rss(a.pid, done, samples)) if a.pid else None
        await asyncio.gather(*(client(http, a, deadline, results, i) for i in range(a.clients)))
        elapsed = time.monotonic() - start
        done.set()
        if sampler:
            await sampler
    ok = [r for r in results if r[1] == 200]
    report = {"clients": a.clients, "seconds": round(elapsed, 1), "kind": a.kind, "requests": len(results),
              "requests_per_s": round(len(ok) / elapsed, 2), "tokens_per_s": round(sum(r[3] for r in ok) / elapsed, 1),
              "errors": {str(s): sum(1 for r in results if r[1] == s) for s in {r[1] for r in results} if s != 200}}
    for kind in ("query", "document"):
        lat = sorted(r[2] for r in ok if r[0] == kind)
        if lat:
            report[kind + "_p50_ms"] = round(1000 * lat[len(lat) // 2], 1)
            report[kind + "_p99_ms"] = round(1000 * lat[min(len(lat) - 1, int(len(lat) * 0.99))], 1)
    if samples:
        first = [mb for t, mb in samples if t - start < 10]
        last = [mb for t, mb in samples if start + elapsed - t < 10]
        report["rss_first10s_mb"] = round(max(first), 1)
        report["rss_last10s_mb"] = round(max(last), 1)
        report["rss_peak_mb"] = round(max(mb for _, mb in samples), 1)
    print(json.dumps(report))


if __name__ == "__main__":
    asyncio.run(main())
