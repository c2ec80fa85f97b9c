#!/usr/bin/env python3
"""Reference gradients for the Swift backward pass, and a reference run of AdamW for its optimiser.

Usage:
  scripts/gradient-reference.py --pairs FILE.jsonl --output FILE.safetensors [--model DIR]
      [--count 32] [--anchor-prompt P] [--positive-prompt P] [--matryoshka] [--threads 2]
  scripts/gradient-reference.py --adamw-fixture OUT.json
  e.g. nice -n 19 scripts/gradient-reference.py --pairs /work/bench/gradient-pairs.jsonl \
           --output /work/bench/gradient-reference.safetensors
       scripts/gradient-reference.py --adamw-fixture Tests/EmbeddingGemmaTests/Fixtures/adamw-reference.json

Runs in $GEMMA_REFERENCE_VENV (default .venv-reference; made when missing, see referencelib.py).
Prints a JSON summary on stdout and a human one on stderr.

Gradients (--pairs). Loads the model folder with sentence-transformers in float32 on the CPU, takes
the first --count (32) lines of --pairs ({"anchor","positive"[,"negative"]}), gives the anchors
--anchor-prompt (default the query prompt "task: search result | query: ") and the positives (and
negatives) --positive-prompt (default the document prompt "title: none | text: "), tokenizes them
with model.preprocess exactly as the trainer's data collator does, and computes the loss exactly as
SentenceTransformerTrainer would: one call of MultipleNegativesRankingLoss(scale 20, cosine) (or,
with --matryoshka, MatryoshkaLoss over 768/512/256/128 around it) on the column features, in the
mode the trainer uses (model.train()). EmbeddingGemma has no active dropout (attention_dropout 0.0
and no Dropout module with p > 0: the script checks and switches to model.eval() if it ever finds
one, and says so in the file's metadata), so train and eval mode compute the same thing. The loss
embeds the columns in one padded forward pass when they preprocess alike (same prompt) and in one
pass per column otherwise; padding is masked, so the values are the same either way up to rounding.
Then loss.backward(), and no clipping, no optimiser step: the raw gradient of the loss.

The safetensors file (--output) holds, all float32 unless said otherwise:
  loss                         [1]        the loss value
  grad_norm                    [1]        the global L2 norm of all the gradients (what the trainer
                                          logs as grad_norm before clipping)
  embeddings.anchor            [N, 768]   the anchors' sentence embeddings (normalised: the model's
  embeddings.positive          [N, 768]   last module is Normalize); embeddings.negative when given
  tokens.anchor.<i>            int64 [T]  the token ids of anchor i as trained on: prompt included,
  tokens.positive.<i>          int64 [T]  <bos> first and <eos> last, no padding (i = 0 ..< N)
  <state_dict name>            [...]      the gradient of that parameter, for every parameter but the
                                          token embedding, under its sentence-transformers
                                          state_dict name, e.g.
                                            0.model.layers.0.self_attn.q_proj.weight  [768, 768]
                                            0.model.layers.0.self_attn.k_norm.weight  [256]
                                            0.model.layers.0.mlp.gate_proj.weight     [1152, 768]
                                            0.model.norm.weight                       [768]
                                            2.linear.weight  [3072, 768]   3.linear.weight  [768, 3072]
                                          (sentence-transformers 6 names the transformer "0.model.";
                                          older releases said "0.auto_model."; the model folder's
                                          own model.safetensors names are these without "0.model.",
                                          and 2_Dense / 3_Dense hold "linear.weight")
  grad.embed_tokens.rows       int64 [R]  sorted ids of the rows of 0.model.embed_tokens.weight
                                          whose gradient is not all zero
  grad.embed_tokens.values     [R, 768]   those rows of its gradient (every other row is exactly 0)
The file's metadata (strings) says the model, the pairs file, the count, the prompts, the loss, the
mode (train or eval), the attention implementation, the library versions, and the names of the
parameters the trainer does not decay (no_decay, a JSON list: the norms).

AdamW (--adamw-fixture OUT.json). A small deterministic run of torch.optim.AdamW as the Hugging Face
trainer drives it: three tensors ("norm" [4] in a parameter group with weight_decay 0, "weight"
[3, 2] and "embedding" [5, 2] with weight_decay 0.01), lr 0.05, betas (0.9, 0.999), eps 1e-8,
the learning rate from transformers' get_linear_schedule_with_warmup(warmup 1, total 10), and
torch.nn.utils.clip_grad_norm_(max_norm 1.0) over all three before each step. Three steps with
seeded gradients: the first above the clipping norm, the second below it, the third with zero rows
in "embedding" (such rows still move: their moments from earlier steps and the decay). The JSON has,
flat in row-major order with each tensor's shape: the initial values, and per step the learning rate
used, the gradients before clipping, their global norm, the clipping factor applied
(min(1, max_norm / (norm + 1e-6))), the values after the step and the moments exp_avg / exp_avg_sq.
"""
import argparse
import json
import os
import sys
import time

from referencelib import DOCUMENT_PROMPT, MODEL, QUERY_PROMPT, ensure_venv, load_model, read_jsonl, set_threads

EMBEDDING = "0.model.embed_tokens.weight"


def log(message):
    print(message, file=sys.stderr, flush=True)


def active_dropout(model):
    """Names of modules that would drop anything in train mode."""
    import torch
    found = [name for name, module in model.named_modules()
             if isinstance(module, torch.nn.Dropout) and module.p > 0]
    config = getattr(model[0], "auto_model", None) or getattr(model[0], "model", None)
    config = getattr(config, "config", None)
    for key in ("attention_dropout", "hidden_dropout", "dropout"):
        if getattr(config, key, 0) not in (0, 0.0, None):
            found.append(f"config.{key}")
    return found


def gradients(args):
    import safetensors.torch
    import sentence_transformers
    import torch
    import transformers
    from sentence_transformers.sentence_transformer.losses import MatryoshkaLoss, MultipleNegativesRankingLoss
    from transformers import Trainer

    set_threads(args.threads)
    start = time.time()
    model = load_model(args.model)
    loaded = time.time() - start
    pairs = read_jsonl(args.pairs)[:args.count]
    if len(pairs) < args.count:
        log(f"note: {args.pairs} has {len(pairs)} pairs, fewer than --count {args.count}")
    columns = ["anchor", "positive"] + (["negative"] if all("negative" in p for p in pairs) else [])
    prompts = {"anchor": args.anchor_prompt, "positive": args.positive_prompt, "negative": args.positive_prompt}

    dropout = active_dropout(model)
    mode = "eval" if dropout else "train"
    model.train(mode == "train")
    if dropout:
        log(f"dropout found ({', '.join(dropout)}): computing in eval mode")
    loss_fn = MultipleNegativesRankingLoss(model, scale=20.0)
    if args.matryoshka:
        loss_fn = MatryoshkaLoss(model, loss_fn, matryoshka_dims=[768, 512, 256, 128])

    features = [model.preprocess([p[c] for p in pairs], prompt=prompts[c]) for c in columns]
    outputs = []
    hook = model.register_forward_hook(lambda _m, _i, out: outputs.append(out["sentence_embedding"].detach()))
    model.zero_grad(set_to_none=True)
    start = time.time()
    loss = loss_fn(features, None)
    loss.backward()
    computed = time.time() - start
    hook.remove()
    # The loss embedded the columns in one merged pass (column-major) or one pass per column.
    # (A Matryoshka loss may call the model again for narrower widths: only the first, full-width
    # rows of each column count.)
    embeddings = torch.cat([o for o in outputs if o.shape[1] == 768])[:len(columns) * len(pairs)].split(len(pairs))

    value = loss.item()
    tensors = {"loss": torch.tensor([value], dtype=torch.float32)}
    squares = 0.0
    for name, parameter in model.named_parameters():
        grad = parameter.grad if parameter.grad is not None else torch.zeros_like(parameter)
        if name == EMBEDDING:
            rows = torch.nonzero(grad.abs().amax(dim=1)).flatten().to(torch.int64)
            grad = grad[rows].contiguous()
            tensors["grad.embed_tokens.rows"] = rows.contiguous()
            tensors["grad.embed_tokens.values"] = grad
        else:
            tensors[name] = grad.detach().contiguous()
        squares += float(grad.pow(2).sum(dtype=torch.float64))
    model.zero_grad(set_to_none=True)
    tensors["grad_norm"] = torch.tensor([squares ** 0.5], dtype=torch.float32)
    for column, embedding in zip(columns, embeddings):
        tensors[f"embeddings.{column}"] = embedding.contiguous()
        for i, mask in enumerate(features[columns.index(column)]["attention_mask"]):
            ids = features[columns.index(column)]["input_ids"][i][mask.bool()]
            tensors[f"tokens.{column}.{i}"] = ids.to(torch.int64).contiguous()

    decayed = set(Trainer.get_decay_parameter_names(None, model))
    metadata = {
        "model": os.path.abspath(args.model), "pairs": os.path.abspath(args.pairs), "count": str(len(pairs)),
        "columns": json.dumps(columns), "prompts": json.dumps({c: prompts[c] for c in columns}),
        "loss": ("MatryoshkaLoss(MultipleNegativesRankingLoss, dims 768/512/256/128)" if args.matryoshka
                 else "MultipleNegativesRankingLoss(scale 20, cosine)"),
        "mode": mode, "attention": str(getattr(model[0].model.config, "_attn_implementation", "unknown")),
        "sentence_transformers": sentence_transformers.__version__, "transformers": transformers.__version__,
        "torch": torch.__version__,
        "no_decay": json.dumps([n for n, _ in model.named_parameters() if n not in decayed]),
    }
    start = time.time()
    safetensors.torch.save_file(tensors, args.output, metadata=metadata)
    saved = time.time() - start
    size = os.path.getsize(args.output)
    tokens = {c: int(f["attention_mask"].sum()) for c, f in zip(columns, features)}
    summary = {"output": args.output, "pairs": len(pairs), "loss": value, "grad_norm": squares ** 0.5,
               "embedding_rows": int(tensors["grad.embed_tokens.rows"].numel()), "tokens": tokens,
               "mode": mode, "load_seconds": loaded, "forward_backward_seconds": computed, "save_seconds": saved,
               "bytes": size, "tensors": len(tensors), "metadata": {k: v for k, v in metadata.items() if k != "no_decay"}}
    log(f"loss {value:.6f}, gradient norm {squares ** 0.5:.4f}, {len(pairs)} pairs ({tokens} tokens), "
        f"forward + backward {computed:.1f} s, {summary['embedding_rows']} embedding rows, "
        f"{size / 2**20:.0f} MiB written to {args.output}")
    return summary


def adamw_fixture(path):
    import torch
    from transformers import get_linear_schedule_with_warmup

    generator = torch.Generator().manual_seed(0)
    shapes = {"norm": [4], "weight": [3, 2], "embedding": [5, 2]}
    decay = {"norm": 0.0, "weight": 0.01, "embedding": 0.01}
    params = {n: torch.randn(s, generator=generator).requires_grad_() for n, s in shapes.items()}
    initial = {n: p.detach().flatten().tolist() for n, p in params.items()}
    lr, warmup, total, max_norm = 0.05, 1, 10, 1.0
    optimizer = torch.optim.AdamW([{"params": [params["norm"]], "weight_decay": 0.0},
                                   {"params": [params["weight"], params["embedding"]], "weight_decay": 0.01}],
                                  lr=lr, betas=(0.9, 0.999), eps=1e-8)
    scheduler = get_linear_schedule_with_warmup(optimizer, num_warmup_steps=warmup, num_training_steps=total)
    scales = [2.0, 0.1, 0.5]  # the first step's norm is above 1 (clipped), the second's below
    steps = []
    for step, scale in enumerate(scales, start=1):
        for name, p in params.items():
            p.grad = torch.randn(shapes[name], generator=generator) * scale
        if step == 3:
            p = params["embedding"]
            p.grad[1].zero_()
            p.grad[3].zero_()
        raw = {n: p.grad.flatten().tolist() for n, p in params.items()}
        rate = scheduler.get_last_lr()[0]
        norm = float(torch.nn.utils.clip_grad_norm_(list(params.values()), max_norm))
        optimizer.step()
        scheduler.step()
        state = optimizer.state
        steps.append({
            "step": step, "learning_rate": rate, "gradients": raw, "grad_norm": norm,
            "clip_factor": min(1.0, max_norm / (norm + 1e-6)),
            "clipped_gradients": {n: p.grad.flatten().tolist() for n, p in params.items()},
            "parameters": {n: p.detach().flatten().tolist() for n, p in params.items()},
            "exp_avg": {n: state[p]["exp_avg"].flatten().tolist() for n, p in params.items()},
            "exp_avg_sq": {n: state[p]["exp_avg_sq"].flatten().tolist() for n, p in params.items()},
        })
        optimizer.zero_grad(set_to_none=True)
    fixture = {
        "description": "torch.optim.AdamW driven like the Hugging Face trainer: clip_grad_norm_ over all "
                       "parameters, then optimizer.step(), then the linear warm-up/decay schedule's step. "
                       "Tensors flat, row-major. learning_rate is the rate the step used. Made by "
                       "scripts/gradient-reference.py --adamw-fixture.",
        "torch": torch.__version__, "dtype": "float32",
        "optimizer": {"lr": lr, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": decay},
        "schedule": {"kind": "linear", "warmup_steps": warmup, "total_steps": total},
        "max_grad_norm": max_norm, "clip_epsilon": 1e-6,
        "shapes": shapes, "initial": initial, "steps": steps,
    }
    with open(path, "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    log(f"AdamW fixture: {len(steps)} steps, rates {[s['learning_rate'] for s in steps]}, "
        f"norms {[round(s['grad_norm'], 4) for s in steps]}, written to {path}")
    return {"output": path, "steps": len(steps), "learning_rates": [s["learning_rate"] for s in steps],
            "grad_norms": [s["grad_norm"] for s in steps]}


def main():
    ensure_venv()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", help='{"anchor","positive"[,"negative"]} JSONL; the first --count lines are used')
    parser.add_argument("--output", help="the safetensors file to write")
    parser.add_argument("--model", default=MODEL)
    parser.add_argument("--count", type=int, default=32)
    parser.add_argument("--anchor-prompt", default=QUERY_PROMPT)
    parser.add_argument("--positive-prompt", default=DOCUMENT_PROMPT)
    parser.add_argument("--matryoshka", action="store_true", help="MatryoshkaLoss over 768/512/256/128")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--adamw-fixture", metavar="OUT.json", help="write the AdamW reference run instead")
    args = parser.parse_args()
    if not args.adamw_fixture and not (args.pairs and args.output):
        parser.error("give --pairs FILE and --output FILE, or --adamw-fixture OUT.json")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    stdout, sys.stdout = sys.stdout, sys.stderr
    summary = {}
    if args.adamw_fixture:
        summary["adamw"] = adamw_fixture(args.adamw_fixture)
    if args.pairs and args.output:
        summary["gradients"] = gradients(args)
    print(json.dumps(summary, indent=1), file=stdout)


if __name__ == "__main__":
    main()
