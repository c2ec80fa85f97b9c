#!/usr/bin/env python3
"""The sentence-transformers fine-tuning anchor for `gemma-embed finetune`: sentence-transformers'
own trainer on the CPU in float32, with the recipe of ../shared/classify-eval/reference.json
("finetuned.how"), its speed and memory, and the probes that say whether training helped.

Usage:
  train (and optionally probe) a model:
    scripts/finetune-reference.py (--labelled FILE.jsonl | --pairs FILE.jsonl) --output DIR
        [--model DIR] [--epochs 1] [--batch-size 32] [--learning-rate 2e-5] [--seed 0]
        [--threads 2] [--matryoshka] [--anchor-prompt P] [--positive-prompt P]
        [--limit N] [--max-steps N] [--probe]
        [--retrieval-eval FILE.jsonl [--distractors FILE.jsonl]] [--baseline]
  probe any model folder (e.g. the Swift fine-tune's output), no training:
    scripts/finetune-reference.py --probe-only DIR [--retrieval-eval FILE.jsonl [--distractors FILE]]
  retrieval only, of --model (default the base model):
    scripts/finetune-reference.py --retrieval-eval FILE.jsonl [--distractors FILE.jsonl] [--model DIR]
  Examples (run niced on a shared machine):
    nice -n 19 scripts/finetune-reference.py --labelled ../shared/classify-eval/train.jsonl \
        --output /tmp/ft-classify --probe --baseline > ft-classify.json
    nice -n 19 scripts/finetune-reference.py --pairs /work/bench/retrieval-pairs/train.jsonl \
        --output /tmp/ft-retrieval --retrieval-eval /work/bench/retrieval-pairs/held-out.jsonl \
        --distractors /work/bench/retrieval-pairs/distractors.jsonl --baseline
    nice -n 19 scripts/finetune-reference.py --labelled ../shared/classify-eval/train.jsonl \
        --output /tmp/ft-smoke --limit 64 --batch-size 8 --max-steps 2

Runs in $GEMMA_REFERENCE_VENV (default .venv-reference; made when missing, see referencelib.py).
Prints one JSON object on stdout; progress and a summary go to stderr.

Inputs
  --labelled FILE  {"text","label"} lines. Each text becomes a pair (text, positive) whose positive is
                   drawn at random (random.Random(--seed), texts in file order) from the OTHER texts
                   with the same label; labels with a single text are skipped with a warning. Both
                   columns carry the Classification prompt "task: classification | query: ".
  --pairs FILE     {"anchor","positive"[,"negative"]} lines. The anchor carries --anchor-prompt
                   (default the query prompt "task: search result | query: "), the positive and the
                   negative --positive-prompt (default the document prompt "title: none | text: ").
  Prompts go through the trainer's `prompts` argument ({column: prompt}), so the tokens trained on
  include them (the model pools with include_prompt = true).

Recipe (sentence-transformers' SentenceTransformerTrainer + SentenceTransformerTrainingArguments)
  loss        MultipleNegativesRankingLoss(scale 20, cosine similarity), in-batch negatives plus any
              hard negatives; --matryoshka wraps it in MatryoshkaLoss over 768/512/256/128 (weights 1).
  batches     --batch-size (32) with BatchSamplers.NO_DUPLICATES (no text twice in a batch, any
              column), shuffled with --seed (+ the epoch); gradient accumulation 1; last batch kept
              (smaller). The trainer fixes the steps of an epoch in advance at ceil(pairs / batch
              size): when the sampler has to defer clashing pairs and so makes more (smaller)
              batches in an epoch, the ones past that count are not trained on in that epoch
              (labelled data clashes often: a text is another pair's positive). The JSON's
              pairs_trained says how many pairs the loss saw.
  optimiser   torch.optim.AdamW ("adamw_torch"): betas (0.9, 0.999), eps 1e-8, weight decay 0.01
              (set explicitly: the Hugging Face default is 0) on every parameter except biases and
              norms (the trainer's get_decay_parameter_names; the JSON lists the exceptions).
  schedule    --learning-rate (2e-5) with Hugging Face's linear schedule: warm-up over
              ceil(0.1 x total steps) steps from 0, then linear decay to 0 at the last step.
  clipping    global gradient norm clipped to 1.0 (max_grad_norm; also the Hugging Face default).
  the rest    --epochs (1), --seed (0) for everything the trainer seeds, --threads (2) torch
              threads, float32, no evaluation during training, no checkpoints (save_strategy "no").
              --max-steps N stops after N optimiser steps (the schedule then spans N steps): for
              smoke tests. --limit N keeps the first N input lines.

Measures (in the JSON under "training")
  seconds            wall time of trainer.train() alone (not loading, not saving, not probes);
                     cpu_seconds the process's CPU time over it (cpu_seconds / seconds = cores used).
  steps              optimiser steps taken; seconds_per_step = seconds / steps.
  tokens             the training tokens: for every text of every batch the trainer drew (anchor,
                     positive and negative columns alike), its token count INCLUDING the prompt and
                     the tokenizer's <bos> and <eos>, without padding, i.e. the sum of the attention
                     masks of the batches the loss was computed on (counted as it runs). The Swift side
                     must count the same way. tokens_expected is the same sum computed up front from
                     the tokenizer over all the training texts x epochs; the two agree unless
                     --max-steps cuts an epoch or batches past the epoch's step count were dropped
                     (see "batches" above).
  tokens_per_second  tokens / seconds.
  peak_rss_bytes     the process's peak resident set (getrusage ru_maxrss) right after training;
                     rss_after_load_bytes the same after loading the model, before training.
  log                per step: the loss, the learning rate used for that step (Hugging Face's warm-up
                     starts at 0, so the first step's is 0) and the gradient norm before clipping.

Probes (on the fine-tuned model; with --baseline on the base model too, before training)
  --probe            the classify-eval probe: train and test of --classify-eval (default
                     ../shared/classify-eval) embedded with the Classification prompt, normalised (256 =
                     cut + renormalised), scikit-learn LogisticRegression(max_iter=1000) fitted on
                     train; accuracy and macro-F1 on test at 768 and 256 (and nearest-centroid accuracy).
  --retrieval-eval F nDCG@10 (and Recall@1/10, MRR@10) on a held-out pairs file: queries = its anchors
                     with --anchor-prompt, corpus = all its distinct positives with --positive-prompt,
                     one relevant document each (referencelib.retrieval_metrics); --distractors FILE
                     ({"text"} lines, e.g. make-retrieval-pairs.py's distractors.jsonl) adds
                     documents no query is relevant to, for a corpus closer to search-eval's size.
The fine-tuned model is saved with sentence-transformers' model.save to --output.
"""
import argparse
import json
import math
import os
import random
import shutil
import sys
import tempfile
import time

from referencelib import (CLASSIFICATION_PROMPT, CLASSIFY_EVAL, DOCUMENT_PROMPT, MODEL, QUERY_PROMPT,
                          classification_probe, ensure_venv, load_model, peak_rss_bytes, read_jsonl,
                          retrieval_metrics)

MATRYOSHKA_DIMENSIONS = [768, 512, 256, 128]


def log(message):
    print(message, file=sys.stderr, flush=True)


def labelled_pairs(records, seed):
    """(anchor, positive) for each text: a positive drawn from the other texts of its label."""
    rng = random.Random(seed)
    by_label = {}
    for record in records:
        by_label.setdefault(record["label"], []).append(record["text"])
    skipped = sorted(label for label, texts in by_label.items() if len(set(texts)) < 2)
    for label in skipped:
        log(f"warning: label {label!r} has a single text; its texts are skipped")
    pairs = []
    for record in records:
        if record["label"] in skipped:
            continue
        others = [t for t in by_label[record["label"]] if t != record["text"]]
        pairs.append({"anchor": record["text"], "positive": rng.choice(others)})
    return pairs, skipped


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return "unknown"


def count_tokens(model, texts, prompt):
    """Tokens of each text with its prompt, <bos> and <eos>, no padding (the collator's count)."""
    total = 0
    for start in range(0, len(texts), 64):
        features = model.preprocess(texts[start:start + 64], prompt=prompt)
        total += int(features["attention_mask"].sum())
    return total


class TokenCounter:
    """Counts the unpadded tokens (attention-mask ones), texts and batches of every batch the loss
    is computed on: a forward pre-hook on the loss, so a batch the data loader prepared ahead but
    training never used (its look-ahead at --max-steps) does not count."""

    def __init__(self):
        self.tokens = 0
        self.texts = 0
        self.batches = 0

    def __call__(self, _module, args):
        features = args[0]
        for column in features:
            self.tokens += int(column["attention_mask"].sum())
            self.texts += int(column["attention_mask"].shape[0])
        self.batches += 1


def evaluate(model, args, which, results):
    if args.probe or args.probe_only:
        train, test = (read_jsonl(os.path.join(args.classify_eval, f"{n}.jsonl")) for n in ("train", "test"))
        start = time.time()
        rows = classification_probe(model, train, test)
        results.setdefault("probe", {})[which] = rows
        for r in rows:
            log(f"probe {which} {r['dimensions']}: accuracy {r['accuracy']:.4f}, macro-F1 {r['macro_f1']:.4f}, "
                f"centroid {r['centroid_accuracy']:.4f} ({time.time() - start:.0f} s)")
    if args.retrieval_eval:
        pairs = read_jsonl(args.retrieval_eval)
        distractors = [d["text"] for d in read_jsonl(args.distractors)] if args.distractors else []
        start = time.time()
        rows = retrieval_metrics(model, pairs, args.anchor_prompt, args.positive_prompt, distractors=distractors)
        results.setdefault("retrieval", {})[which] = rows
        for r in rows:
            log(f"retrieval {which} {r['dimensions']}: nDCG@10 {r['ndcg@10']:.4f}, R@1 {r['recall@1']:.4f} "
                f"({r['queries']} queries, {r['corpus']} documents, {time.time() - start:.0f} s)")


def train(model, args, results):
    import datasets
    import sentence_transformers
    import torch
    import transformers
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.sentence_transformer.losses import MatryoshkaLoss, MultipleNegativesRankingLoss
    from sentence_transformers.sentence_transformer.training_args import BatchSamplers
    from transformers import TrainerCallback

    if args.labelled:
        pairs, skipped = labelled_pairs(read_jsonl(args.labelled)[:args.limit], args.seed)
        prompts = {"anchor": CLASSIFICATION_PROMPT, "positive": CLASSIFICATION_PROMPT}
    else:
        pairs, skipped = read_jsonl(args.pairs)[:args.limit], []
        prompts = {"anchor": args.anchor_prompt, "positive": args.positive_prompt}
        negatives = sum("negative" in p for p in pairs)
        if negatives not in (0, len(pairs)):
            sys.exit(f"{args.pairs}: {negatives} of {len(pairs)} pairs have a negative; all or none must")
        if negatives:
            prompts["negative"] = args.positive_prompt
    columns = list(prompts)
    dataset = datasets.Dataset.from_dict({c: [p[c] for p in pairs] for c in columns})
    tokens_per_epoch = sum(count_tokens(model, [p[c] for p in pairs], prompts[c]) for c in columns)

    loss = MultipleNegativesRankingLoss(model, scale=20.0)
    if args.matryoshka:
        loss = MatryoshkaLoss(model, loss, matryoshka_dims=MATRYOSHKA_DIMENSIONS)
    scratch = tempfile.mkdtemp(prefix="finetune-reference-")
    training_args = SentenceTransformerTrainingArguments(
        output_dir=scratch, num_train_epochs=args.epochs, max_steps=args.max_steps,
        per_device_train_batch_size=args.batch_size, gradient_accumulation_steps=1,
        learning_rate=args.learning_rate, lr_scheduler_type="linear", warmup_steps=0.1,
        optim="adamw_torch", adam_beta1=0.9, adam_beta2=0.999, adam_epsilon=1e-8, weight_decay=0.01,
        max_grad_norm=1.0, seed=args.seed, batch_sampler=BatchSamplers.NO_DUPLICATES, prompts=prompts,
        use_cpu=True, fp16=False, bf16=False, eval_strategy="no", save_strategy="no", logging_steps=1,
        report_to="none", dataloader_num_workers=0, dataloader_drop_last=False)
    steps_log = []

    class Recorder(TrainerCallback):
        def on_log(self, _args, state, _control, logs=None, **_):
            if logs and "loss" in logs:
                steps_log.append({"step": state.global_step, "loss": logs["loss"],
                                  "learning_rate": logs.get("learning_rate"), "grad_norm": logs.get("grad_norm")})

    trainer = SentenceTransformerTrainer(model=model, args=training_args, train_dataset=dataset, loss=loss,
                                         callbacks=[Recorder()])
    counter = TokenCounter()
    loss.register_forward_pre_hook(counter)
    decayed = set(trainer.get_decay_parameter_names(model))
    no_decay = [n for n, _ in model.named_parameters() if n not in decayed]
    rss_loaded = peak_rss_bytes()

    start, cpu_start = time.time(), time.process_time()
    trainer.train()
    seconds, cpu_seconds = time.time() - start, time.process_time() - cpu_start
    rss_trained = peak_rss_bytes()
    steps = trainer.state.global_step
    total_steps = trainer.state.max_steps
    model.save(args.output)
    shutil.rmtree(scratch, ignore_errors=True)

    results["engine"] = {"sentence_transformers": sentence_transformers.__version__,
                         "transformers": transformers.__version__, "torch": torch.__version__,
                         "datasets": datasets.__version__, "threads": torch.get_num_threads(), "cpu": cpu_name()}
    results["recipe"] = {
        "loss": "MatryoshkaLoss(MultipleNegativesRankingLoss)" if args.matryoshka else "MultipleNegativesRankingLoss",
        "scale": 20.0, "similarity": "cosine", "matryoshka_dimensions": MATRYOSHKA_DIMENSIONS if args.matryoshka else None,
        "batch_size": args.batch_size, "batch_sampler": "no_duplicates", "epochs": args.epochs,
        "max_steps": args.max_steps, "learning_rate": args.learning_rate, "schedule": "linear",
        "warmup_ratio": 0.1, "warmup_steps": math.ceil(0.1 * total_steps), "total_steps": total_steps,
        "optimizer": "torch.optim.AdamW", "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.01,
        "no_decay_parameters": no_decay, "max_grad_norm": 1.0, "seed": args.seed, "dtype": "float32",
        "prompts": prompts}
    results["data"] = {"input": args.labelled or args.pairs, "pairs": len(pairs), "columns": columns,
                       "skipped_labels": skipped, "tokens_per_epoch": tokens_per_epoch}
    results["training"] = {
        "seconds": seconds, "cpu_seconds": cpu_seconds, "steps": steps, "seconds_per_step": seconds / steps if steps else None,
        "tokens": counter.tokens, "texts": counter.texts, "batches": counter.batches,
        "pairs_trained": counter.texts // len(columns),
        "tokens_expected": round(tokens_per_epoch * args.epochs) if args.max_steps <= 0 else None,
        "tokens_per_second": counter.tokens / seconds if seconds else None,
        "peak_rss_bytes": rss_trained, "rss_after_load_bytes": rss_loaded, "log": steps_log}
    log(f"trained {steps} steps in {seconds:.1f} s ({seconds / max(steps, 1):.2f} s/step), "
        f"{counter.tokens} tokens ({counter.tokens / seconds:.0f} tokens/s), peak RSS {rss_trained / 2**30:.2f} GiB; "
        f"first loss {steps_log[0]['loss'] if steps_log else None}, last {steps_log[-1]['loss'] if steps_log else None}; "
        f"saved to {args.output}")


def main():
    ensure_venv()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--labelled", help='{"text","label"} JSONL: pairs of texts with the same label')
    source.add_argument("--pairs", help='{"anchor","positive"[,"negative"]} JSONL')
    source.add_argument("--probe-only", metavar="DIR", help="no training: probe this model folder")
    parser.add_argument("--output", help="where the fine-tuned model is saved (required when training)")
    parser.add_argument("--model", default=MODEL, help="the model folder to start from (sentence-transformers layout)")
    parser.add_argument("--epochs", type=float, default=1)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=2e-5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--matryoshka", action="store_true", help="MatryoshkaLoss over 768/512/256/128")
    parser.add_argument("--anchor-prompt", default=QUERY_PROMPT)
    parser.add_argument("--positive-prompt", default=DOCUMENT_PROMPT)
    parser.add_argument("--limit", type=int, default=None, help="use only the first N input lines")
    parser.add_argument("--max-steps", type=int, default=-1, help="stop after N steps (smoke tests)")
    parser.add_argument("--probe", action="store_true", help="the classify-eval probe after training")
    parser.add_argument("--retrieval-eval", metavar="FILE", help="held-out pairs JSONL: nDCG@10 and more")
    parser.add_argument("--distractors", metavar="FILE", help='{"text"} JSONL: extra corpus documents for --retrieval-eval')
    parser.add_argument("--baseline", action="store_true", help="the same probes on the base model, before training")
    parser.add_argument("--classify-eval", default=CLASSIFY_EVAL, help="folder with train.jsonl and test.jsonl")
    args = parser.parse_args()
    training = bool(args.labelled or args.pairs)
    if training and not args.output:
        parser.error("--output DIR is needed when training")
    if not training and not args.probe_only and not args.retrieval_eval:
        parser.error("give --labelled or --pairs (train), --probe-only DIR or --retrieval-eval FILE")

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from referencelib import set_threads
    set_threads(args.threads)
    # Everything the libraries print (progress, log lines) goes to stderr; stdout is the JSON alone.
    stdout, sys.stdout = sys.stdout, sys.stderr

    results = {"mode": "finetune" if training else "evaluate"}
    folder = args.probe_only or args.model
    start = time.time()
    model = load_model(folder)
    log(f"loaded {folder} in {time.time() - start:.1f} s")
    if training:
        results.update(model=args.model, output=args.output)
        if args.baseline:
            evaluate(model, args, "baseline", results)
        train(model, args, results)
        model.eval()
        evaluate(model, args, "finetuned", results)
    else:
        results["model"] = folder
        evaluate(model, args, "model", results)
    results["peak_rss_bytes"] = peak_rss_bytes()
    print(json.dumps(results, indent=1), file=stdout)


if __name__ == "__main__":
    main()
