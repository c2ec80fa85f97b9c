#!/usr/bin/env python3
"""Retrieval pairs for the "fine-tuning helps" check, made from ../shared/search-eval with a split
held out by package.

Usage:  scripts/make-retrieval-pairs.py OUTPUT_DIR [--search-eval DIR] [--held-out 0.5] [--seed 0]
                                         [--gradient-pairs FILE [--gradient-count 32] [--gradient-max-chars 400]]
        e.g. scripts/make-retrieval-pairs.py /work/bench/retrieval-pairs --gradient-pairs /work/bench/gradient-pairs.jsonl

Writes to OUTPUT_DIR:
  train.jsonl        {"anchor","positive"}: a query and the package description it is relevant to
  held-out.jsonl     the same for the held-out packages (no package is in both files)
  distractors.jsonl  {"text"}: the descriptions no query is relevant to, as extra corpus documents
                     for the held-out evaluation (finetune-reference.py --distractors); they are in
                     neither pair file, so training never sees them
  manifest.json      seed, fraction, counts, the documents and query ids of each split, sha256 of
                     each file
and, with --gradient-pairs FILE, the input of gradient-reference.py: the first --gradient-count (32)
pairs of train.jsonl, in file order, whose description has at most --gradient-max-chars (400)
characters (about 60-100 tokens: multilingual queries, both prompts, yet a forward and backward
pass that a 2-core machine does in well under a minute);
and prints the manifest's counts as JSON on stdout (a summary on stderr). Standard library only.

Where the pairs come from. search-eval has 1,000 English long descriptions of Debian packages
(docs/doc-NNNNN.txt, one package each) and 400 judged queries (queries.jsonl): a package's one-line
synopsis in one of 18 languages with its one relevant description. Those judged pairs are what a
user's own fine-tuning data looks like (a short query-like text and the document it should find),
so they are used as they are: anchor = the query, positive = the description's text, unchanged. The
identifier queries (a single identifier to be found exactly) are not used: they test lexical
matching, not what a contrastive fine-tune teaches.

How they are split. Every description is one package; descriptions that begin with the same 200
characters (a library and its -dev or -doc package often share one) form one group, so near-twins
never straddle the split. The groups with a judged query are shuffled with random.Random(--seed)
(after sorting by document name) and the first round(--held-out x groups) are held out. So a
held-out query's relevant description, and every near-twin of it, is absent from train.jsonl.

Why the eval's own queries are acceptable here. The search-eval checks that matter for the
project are its hidden twin: the same kind of data over OTHER packages. Training only on these
visible packages cannot leak into that hidden set. A model fine-tuned on train.jsonl must not be
scored on the visible search-eval's full query set (half of it was trained on); score it on
held-out.jsonl (plus the distractors) instead, where both the base and the fine-tuned model see
only unseen packages.

The files are not committed: they are derived from ../shared/search-eval (outside the repository),
about 0.5 MB, and this script remakes them exactly in well under a second.
"""
import argparse
import hashlib
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SEARCH_EVAL = os.path.join(os.path.dirname(os.path.dirname(HERE)), "shared", "search-eval")
PREFIX = 200


sys.path.insert(0, HERE)
import referencelib  # noqa: E402  (no environment needed: plain JSON)
from referencelib import read_jsonl  # noqa: E402


def write_jsonl(path, rows):
    referencelib.write_jsonl(path, rows)
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output", help="folder for train.jsonl, held-out.jsonl, distractors.jsonl, manifest.json")
    parser.add_argument("--search-eval", default=SEARCH_EVAL)
    parser.add_argument("--held-out", type=float, default=0.5, help="fraction of the judged packages held out")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--gradient-pairs", metavar="FILE", help="also write the gradient check's pairs here")
    parser.add_argument("--gradient-count", type=int, default=32)
    parser.add_argument("--gradient-max-chars", type=int, default=400)
    args = parser.parse_args()

    docs_dir = os.path.join(args.search_eval, "docs")
    docs = {}
    for name in sorted(os.listdir(docs_dir)):
        with open(os.path.join(docs_dir, name), encoding="utf-8") as f:
            docs[name] = f.read().strip()
    queries = read_jsonl(os.path.join(args.search_eval, "queries.jsonl"))
    judged = {q["relevant"] for q in queries}

    groups = {}
    for name, text in docs.items():
        groups.setdefault(text[:PREFIX], []).append(name)
    group_of = {name: key for key, names in groups.items() for name in names}
    judged_groups = sorted({group_of[name] for name in judged}, key=lambda key: groups[key][0])
    rng = random.Random(args.seed)
    rng.shuffle(judged_groups)
    count = round(args.held_out * len(judged_groups))
    held_groups = set(judged_groups[:count])

    held_docs = sorted(n for n in docs if group_of[n] in held_groups)
    train_docs = sorted(n for n in docs if group_of[n] in judged_groups and group_of[n] not in held_groups)
    distractor_docs = sorted(n for n in docs if group_of[n] not in set(judged_groups))
    split = {"held-out": [], "train": []}
    ids = {"held-out": [], "train": []}
    for q in queries:
        which = "held-out" if group_of[q["relevant"]] in held_groups else "train"
        split[which].append({"anchor": q["query"], "positive": docs[q["relevant"]]})
        ids[which].append(q["id"])
    assert not set(held_docs) & set(train_docs)

    os.makedirs(args.output, exist_ok=True)
    digests = {
        "train.jsonl": write_jsonl(os.path.join(args.output, "train.jsonl"), split["train"]),
        "held-out.jsonl": write_jsonl(os.path.join(args.output, "held-out.jsonl"), split["held-out"]),
        "distractors.jsonl": write_jsonl(os.path.join(args.output, "distractors.jsonl"),
                                         [{"text": docs[n]} for n in distractor_docs]),
    }
    if args.gradient_pairs:
        short = [p for p in split["train"] if len(p["positive"]) <= args.gradient_max_chars][:args.gradient_count]
        if len(short) < args.gradient_count:
            sys.exit(f"only {len(short)} training pairs have descriptions of at most {args.gradient_max_chars} characters")
        digests["gradient-pairs"] = write_jsonl(args.gradient_pairs, short)
    twins = sum(len(names) - 1 for names in groups.values())
    manifest = {
        "source": "search-eval (queries.jsonl, docs/)", "seed": args.seed, "held_out_fraction": args.held_out,
        "counts": {"train_pairs": len(split["train"]), "held_out_pairs": len(split["held-out"]),
                   "distractors": len(distractor_docs), "near_twin_documents": twins},
        "train": {"queries": ids["train"], "documents": train_docs},
        "held-out": {"queries": ids["held-out"], "documents": held_docs},
        "distractors": distractor_docs, "sha256": digests,
    }
    with open(os.path.join(args.output, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1)
    print(json.dumps({"output": args.output, **manifest["counts"], "sha256": digests}, indent=1))
    print(f"{len(split['train'])} training pairs, {len(split['held-out'])} held-out pairs, "
          f"{len(distractor_docs)} distractor documents ({twins} near-twin descriptions kept together) "
          f"in {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
