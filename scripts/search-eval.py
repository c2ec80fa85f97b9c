#!/usr/bin/env python3
"""Retrieval evaluation of `gemma-embed index` + `gemma-embed search` on ../shared/search-eval.

Indexes the documents (unless --index already holds them), runs every query through
`gemma-embed search --queries --json -k 10` (hybrid, then dense only with --lexical-weight 0),
and prints nDCG@10, Recall@1, Recall@10 and MRR@10 overall and per language beside the
reference's exact float32 figures. --json FILE writes every figure for tests and BENCHMARKS.md.
Standard library only.
"""
import argparse, json, math, os, subprocess, sys, tempfile, time

def metrics(ranked, relevant):
    if relevant in ranked[:10]:
        r = ranked.index(relevant)
        return {"ndcg@10": 1 / math.log2(r + 2), "recall@1": float(r == 0), "recall@10": 1.0, "mrr@10": 1 / (r + 1)}
    return {"ndcg@10": 0.0, "recall@1": 0.0, "recall@10": 0.0, "mrr@10": 0.0}

def mean(rows):
    keys = ["ndcg@10", "recall@1", "recall@10", "mrr@10"]
    return {"n": len(rows), **{k: round(sum(r[k] for r in rows) / max(1, len(rows)), 5) for k in keys}}

def run_search(binary, index, queries, extra):
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        for q in queries:
            f.write(json.dumps({"id": q["id"], "query": q["query"]}) + "\n")
        path = f.name
    start = time.time()
    out = subprocess.run([binary, "search", "--index", index, "--queries", path, "--json", "-k", "10", *extra],
                         check=True, capture_output=True, text=True).stdout
    seconds = time.time() - start
    os.unlink(path)
    ranked = {}
    for line in out.splitlines():
        hit = json.loads(line)
        ranked.setdefault(hit["query_id"], []).append(os.path.basename(hit["path"]))
    return ranked, seconds

def evaluate(queries, ranked):
    rows, by_lang = [], {}
    for q in queries:
        m = metrics(ranked.get(q["id"], []), q["relevant"])
        rows.append(m)
        by_lang.setdefault(q.get("lang", "id"), []).append(m)
    return {"all": mean(rows), "by_lang": {k: mean(v) for k, v in sorted(by_lang.items())}}

def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=os.path.join(here, "..", "..", "shared", "search-eval"))
    p.add_argument("--binary", default=os.path.join(here, "..", ".build", "release", "gemma-embed"))
    p.add_argument("--index", help="index file (default: a new one in a temporary folder)")
    p.add_argument("--model", help="model for `index` (default: the fetched float32 model)")
    p.add_argument("--dimensions", type=int)
    p.add_argument("--json", help="write all figures to this file")
    a = p.parse_args()
    data = os.path.abspath(a.data)
    reference = json.load(open(os.path.join(data, "reference.json")))
    queries = [json.loads(l) for l in open(os.path.join(data, "queries.jsonl"))]
    identifiers = [json.loads(l) for l in open(os.path.join(data, "identifier_queries.jsonl"))]
    index = a.index or os.path.join(tempfile.mkdtemp(), "eval.sqlite")
    command = [a.binary, "index", "--index", index, os.path.join(data, "docs")]
    if a.model: command += ["--model", a.model]
    if a.dimensions: command += ["--dimensions", str(a.dimensions)]
    start = time.time()
    subprocess.run(command, check=True)
    index_seconds = time.time() - start
    dims = str(a.dimensions or 768)
    result = {"index_seconds": round(index_seconds, 1), "dimensions": int(dims)}
    for mode, extra in (("hybrid", []), ("dense", ["--lexical-weight", "0"])):
        ranked, seconds = run_search(a.binary, index, queries + identifiers, extra)
        result[mode] = {"multilingual": evaluate(queries, ranked), "identifiers": evaluate(identifiers, ranked)["all"],
                        "search_seconds": round(seconds, 1), "queries": len(queries) + len(identifiers)}
        top = sum(1 for q in queries if [os.path.basename(x) for x in ranked.get(q["id"], [])] == reference["top10"][q["id"]])
        result[mode]["top10_identical_to_reference"] = top
    ref = reference["metrics"][dims]
    result["reference"] = {"multilingual": ref, "identifiers": reference["identifier_metrics"]}
    print(f"index: {index_seconds:.1f} s; dimensions {dims}")
    print(f"{'':10s} {'ref nDCG':>9s} {'dense':>9s} {'hybrid':>9s}   (nDCG@10; R@1 hybrid)")
    for lang in ["all"] + sorted(ref["by_lang"]):
        r = ref["all"] if lang == "all" else ref["by_lang"][lang]
        d = result["dense"]["multilingual"]["all" if lang == "all" else "by_lang"]
        h = result["hybrid"]["multilingual"]["all" if lang == "all" else "by_lang"]
        d = d if lang == "all" else d[lang]
        h = h if lang == "all" else h[lang]
        print(f"{lang:10s} {r['ndcg@10']:9.4f} {d['ndcg@10']:9.4f} {h['ndcg@10']:9.4f}   {h['recall@1']:.3f}")
    idm = reference["identifier_metrics"]
    print(f"identifiers: BM25 {idm['bm25']['ndcg@10']:.4f}, reference dense {idm['dense']['ndcg@10']:.4f}; "
          f"ours dense {result['dense']['identifiers']['ndcg@10']:.4f}, hybrid {result['hybrid']['identifiers']['ndcg@10']:.4f}")
    if dims == "768":  # the reference lists its top 10 at 768 dimensions only
        print(f"top 10 identical to the reference's (of {len(queries)}): dense {result['dense']['top10_identical_to_reference']}, "
              f"hybrid {result['hybrid']['top10_identical_to_reference']}")
    print(f"search: {result['hybrid']['queries']} queries in {result['hybrid']['search_seconds']} s (one process)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=1)

if __name__ == "__main__":
    main()
