#!/usr/bin/env bash
# Fine-tuning, the project against sentence-transformers' trainer in the same sitting, on the same
# data and recipe: speed (training tokens per second: every text of every batch, prompt and special
# tokens included, no padding; over the training time only), peak RSS, and quality by the same probe
# (scripts/finetune-reference.py --probe-only: scikit-learn's logistic regression on classify-eval, or
# held-out retrieval nDCG@10 for pairs).
#
# Usage:  scripts/bench-finetune.sh labelled EPOCHS LEARNING_RATE [OUT_DIR]
#         scripts/bench-finetune.sh pairs EPOCHS LEARNING_RATE [OUT_DIR]   (retrieval pairs from
#                                    scripts/make-retrieval-pairs.py, held-out split for nDCG@10)
# THREADS (default 2): threads of both (torch's and EMBEDDINGGEMMA_THREADS).
# Prints each run's JSON (sentence-transformers' script, the project's summary and probe) on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
kind=$1 epochs=$2 rate=$3
out=${4:-$(mktemp -d /tmp/bench-finetune.XXXXXX)}
bin=${GEMMA_EMBED_BIN:-.build/release/gemma-embed}
threads=${THREADS:-2}
mkdir -p "$out"
if [ "$kind" = labelled ]; then
    data=(--labelled ../shared/classify-eval/train.jsonl)
    probe=(--probe)
else
    [ -f "$out/pairs/train.jsonl" ] || scripts/make-retrieval-pairs.py "$out/pairs" >/dev/null
    data=(--pairs "$out/pairs/train.jsonl")
    probe=(--retrieval-eval "$out/pairs/held-out.jsonl" --distractors "$out/pairs/distractors.jsonl")
fi
echo "== sentence-transformers ($kind, $epochs epochs, lr $rate)" >&2
scripts/finetune-reference.py "${data[@]}" --epochs "$epochs" --learning-rate "$rate" --output "$out/st" "${probe[@]}" --baseline \
    --threads "$threads" \
    > "$out/st.json"
cat "$out/st.json"
echo "== gemma-embed finetune ($kind, $epochs epochs, lr $rate)" >&2
rm -rf "$out/ours"
EMBEDDINGGEMMA_THREADS=$threads /usr/bin/time -v "$bin" finetune "${data[@]}" --epochs "$epochs" --learning-rate "$rate" --output "$out/ours" 2> "$out/ours.log"
grep -E "fine-tuned|examples|Maximum resident|Elapsed" "$out/ours.log"
echo "== the same probe on the project's fine-tune" >&2
scripts/finetune-reference.py --probe-only "$out/ours" "${probe[@]}" > "$out/ours-probe.json"
cat "$out/ours-probe.json"
