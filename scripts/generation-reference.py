#!/usr/bin/env python3
"""Reference greedy generations of a Gemma 3 GGUF file, made by Hugging Face transformers'
Gemma3ForCausalLM on the file's weights dequantized by the `gguf` package (float32, CPU), for
the generator's exactness test (Tests/EmbeddingGemmaModelTests/GeneratorReferenceTests.swift).

For each prompt: the prompt's token ids (<bos> first), the first 64 greedy tokens, and the first
step's logits at the 32 most likely ids plus their log-sum-exp.

Usage (pip packages: torch, transformers, gguf, accelerate):
  scripts/generation-reference.py [--model ~/.cache/embeddinggemma/gemma-3-270m-q4_k_m.gguf]
      [--tokens 64] [--out Tests/EmbeddingGemmaModelTests/Fixtures/generation-reference.json]
"""
import argparse, json, os, time

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

PROMPTS = [
    "The capital of France is",
    "Once upon a time, in a small village,",
    "def fibonacci(n):",
    "The three primary colors are",
    "Water boils at",
    "La capitale de l'Italie est",
    "Der schnellste Weg nach Berlin ist",
    "El río más largo del mundo es",
    "日本の首都は",
    "Москва — это",
    "The recipe for pancakes needs flour, eggs and",
    "In 1969, the first person to walk on the Moon",
    "SELECT name FROM users WHERE",
    "A haiku about autumn:\n",
    "The mitochondria is the",
    "Il était une fois",
    "Photosynthesis converts",
    "#include <stdio.h>\nint main() {",
    "Q: What is 12 times 12?\nA:",
    "北京是中国的",
    "Un buen libro para aprender programación es",
    "The Debian package manager is called",
]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser()
    p.add_argument("--model", default=os.path.expanduser("~/.cache/embeddinggemma/gemma-3-270m-q4_k_m.gguf"))
    p.add_argument("--tokens", type=int, default=64)
    p.add_argument("--out", default=os.path.join(here, "..", "Tests", "EmbeddingGemmaModelTests", "Fixtures", "generation-reference.json"))
    a = p.parse_args()
    torch.manual_seed(0)
    folder, name = os.path.split(os.path.abspath(a.model))
    start = time.time()
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    model.eval()
    print(f"loaded in {time.time() - start:.0f} s", flush=True)
    cases = []
    for prompt in PROMPTS:
        ids = tokenizer(prompt, return_tensors="pt").input_ids
        with torch.no_grad():
            logits = model(ids).logits[0, -1].float()
            out = model.generate(ids, max_new_tokens=a.tokens, do_sample=False, top_k=None, top_p=None)
        top = torch.topk(logits, 32)
        generated = out[0, ids.shape[1]:].tolist()
        cases.append({
            "prompt": prompt,
            "prompt_ids": ids[0].tolist(),
            "generated_ids": generated,
            "text": tokenizer.decode(generated),
            "top_ids": top.indices.tolist(),
            "top_logits": [float(x) for x in top.values],
            "logsumexp": float(torch.logsumexp(logits, 0)),
        })
        print(json.dumps(prompt), "->", json.dumps(cases[-1]["text"][:60]), flush=True)
    with open(a.out, "w") as f:
        json.dump({"model": name, "reference": "transformers Gemma3ForCausalLM on gguf-dequantized float32 weights, greedy",
                   "transformers": __import__("transformers").__version__, "torch": torch.__version__, "cases": cases}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {a.out}")


if __name__ == "__main__":
    main()
