"""Shared pieces of the sentence-transformers reference scripts (classify-reference.py,
finetune-reference.py, gradient-reference.py): the virtual environment, the model's prompts, the
classification probe and the retrieval metrics. Imported, never run on its own.

The virtual environment is $GEMMA_REFERENCE_VENV, or .venv-reference at the repository's root when
that is unset. It is made when missing: a CPU-only torch first (from the wheel folders pip is
configured with, e.g. through PIP_FIND_LINKS, when one holds it; plain `pip install torch` otherwise),
then sentence-transformers with its training extras, scikit-learn, safetensors and psutil. Scripts
call ensure_venv() first; it re-executes the script with the environment's interpreter.
"""
import json
import os
import resource
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
CLASSIFY_EVAL = os.path.join(SHARED, "classify-eval")
SEARCH_EVAL = os.path.join(SHARED, "search-eval")
MODEL = os.environ.get("EMBEDDINGGEMMA_MODEL", os.path.expanduser("~/.cache/embeddinggemma/embeddinggemma-300m"))

# The model's own prompts (config_sentence_transformers.json): Classification, query and document.
CLASSIFICATION_PROMPT = "task: classification | query: "
QUERY_PROMPT = "task: search result | query: "
DOCUMENT_PROMPT = "title: none | text: "

# What the scripts import, and the pip distribution that brings each module.
_MODULES = {"sentence_transformers": "sentence-transformers[train]", "datasets": "datasets", "accelerate": "accelerate",
            "sklearn": "scikit-learn", "safetensors": "safetensors", "psutil": "psutil"}


def venv_dir():
    return os.environ.get("GEMMA_REFERENCE_VENV") or os.path.join(ROOT, ".venv-reference")


def _pip(python, *args):
    return subprocess.call([python, "-m", "pip", "install", "--quiet", *args])


def ensure_venv():
    """Makes the environment when missing, installs what is missing in it, and re-executes the
    calling script with its interpreter (returns at once when already running inside it)."""
    venv = venv_dir()
    python = os.path.join(venv, "bin", "python")
    if os.environ.get("GEMMA_REFERENCE_IN_VENV") == "1" or os.path.realpath(sys.prefix) == os.path.realpath(venv):
        return
    if not os.path.exists(python):
        print(f"making the reference environment in {venv} (a few minutes, once)", file=sys.stderr)
        subprocess.check_call([sys.executable, "-m", "venv", venv])
        _pip(python, "--upgrade", "pip")
        # A CPU-only build of torch when a configured wheel folder has one (no index: only those
        # folders), so the default index's much larger GPU build is not pulled in.
        if _pip(python, "--no-index", "--no-deps", "torch") != 0:
            print("no local CPU build of torch; installing the default one", file=sys.stderr)
    probe = ("import importlib.util, sys; "
             f"print(' '.join(m for m in {list(_MODULES)!r} if importlib.util.find_spec(m) is None))")
    missing = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    if missing:
        # torch is named again so its own dependencies come too; an installed torch is kept.
        if _pip(python, "torch", *sorted({_MODULES[m] for m in missing})) != 0:
            sys.exit(f"could not install {', '.join(missing)} in {venv}")
    env = dict(os.environ, GEMMA_REFERENCE_IN_VENV="1")
    script = os.path.abspath(sys.argv[0])
    os.execve(python, [python, script] + sys.argv[1:], env)


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def peak_rss_bytes():
    """The process's peak resident set size so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def set_threads(count):
    import torch
    torch.set_num_threads(count)


def load_model(folder):
    """The sentence-transformers model of a folder, on the CPU, in float32."""
    import torch
    from sentence_transformers import SentenceTransformer
    model = SentenceTransformer(folder, device="cpu")
    model.to(torch.float32)
    return model


def encode(model, texts, prompt, batch_size=32):
    """Normalised float32 embeddings (numpy, one row a text) with the prompt before each text."""
    return model.encode(list(texts), prompt=prompt, normalize_embeddings=True, batch_size=batch_size,
                        convert_to_numpy=True, show_progress_bar=False)


def cut(vectors, width):
    """Matryoshka cut: the first `width` components, renormalised."""
    import numpy as np
    part = vectors[:, :width]
    return part / np.linalg.norm(part, axis=1, keepdims=True)


def classification_probe(model, train, test, widths=(768, 256), prompt=CLASSIFICATION_PROMPT):
    """The classify-eval probe: train and test ({"text","label"}) embedded with the prompt
    (normalised; narrower widths cut and renormalised), scikit-learn's
    LogisticRegression(max_iter=1000) fitted on train; accuracy and macro-F1 on test, and the
    accuracy of the nearest class centroid by cosine. One dict per width."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score

    xtr = encode(model, [e["text"] for e in train], prompt)
    xte = encode(model, [e["text"] for e in test], prompt)
    ytr, yte = [e["label"] for e in train], [e["label"] for e in test]
    rows = []
    for width in widths:
        a, b = cut(xtr, width), cut(xte, width)
        predicted = list(LogisticRegression(max_iter=1000).fit(a, ytr).predict(b))
        labels = sorted(set(ytr))
        centroids = np.stack([a[[y == label for y in ytr]].mean(axis=0) for label in labels])
        centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
        nearest = [labels[i] for i in np.argmax(b @ centroids.T, axis=1)]
        rows.append({"dimensions": width, "accuracy": accuracy_score(yte, predicted),
                     "macro_f1": f1_score(yte, predicted, average="macro"),
                     "centroid_accuracy": accuracy_score(yte, nearest)})
    return rows


def retrieval_metrics(model, pairs, query_prompt=QUERY_PROMPT, document_prompt=DOCUMENT_PROMPT, widths=(768, 256),
                      distractors=()):
    """Retrieval on a pairs split ({"anchor","positive"}): the anchors are the queries (with the
    query prompt), the corpus is every distinct positive of the split plus any distractor texts
    (with the document prompt), each query's one relevant document is its own positive. Exact
    cosine ranking; nDCG@10 (one relevant document: 1/log2(rank + 1) when it is in the top 10),
    Recall@1, Recall@10, MRR@10."""
    import numpy as np
    corpus = sorted({p["positive"] for p in pairs} | set(distractors))
    index = {text: i for i, text in enumerate(corpus)}
    relevant = np.array([index[p["positive"]] for p in pairs])
    queries = encode(model, [p["anchor"] for p in pairs], query_prompt)
    documents = encode(model, corpus, document_prompt)
    rows = []
    for width in widths:
        scores = cut(queries, width) @ cut(documents, width).T
        own = scores[np.arange(len(pairs)), relevant]
        # Rank (1-based) of the relevant document; ties count against it.
        ranks = (scores >= own[:, None]).sum(axis=1)
        top10 = ranks <= 10
        rows.append({"dimensions": width, "queries": len(pairs), "corpus": len(corpus),
                     "ndcg@10": float(np.mean(np.where(top10, 1 / np.log2(ranks + 1), 0))),
                     "recall@1": float(np.mean(ranks == 1)), "recall@10": float(np.mean(top10)),
                     "mrr@10": float(np.mean(np.where(top10, 1 / ranks, 0)))})
    return rows
