#!/usr/bin/env python3
"""Writes Tests/EmbeddingGemmaTests/Fixtures/block-decoding.json: random blocks of every GGUF
encoding the engine decodes beyond Q8_0/Q4_0 (Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K) with the float32
values the `gguf` package (llama.cpp's Python library) dequantizes them to, so the Swift decoders
are checked bit for bit against the reference in the fast tier.

Blocks are random bytes except their float16 scale fields, which are random finite halves of
realistic size (random bytes would give NaN or infinite scales no quantizer writes).

Usage: python3 -m pip install gguf numpy && scripts/make-kquant-fixture.py [--seed 7] [--blocks 6]
"""
import argparse, base64, json, os

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf.constants import GGML_QUANT_SIZES
from gguf.quants import dequantize

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Tests", "EmbeddingGemmaTests", "Fixtures", "block-decoding.json")

# Byte offsets of each block's float16 fields.
HALVES = {T.Q4_1: [0, 2], T.Q5_0: [0], T.Q5_1: [0, 2], T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208]}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--blocks", type=int, default=6)
    a = p.parse_args()
    rng = np.random.default_rng(a.seed)
    cases = []
    for qtype, offsets in HALVES.items():
        block_size, type_size = GGML_QUANT_SIZES[qtype]
        raw = rng.integers(0, 256, size=(a.blocks, type_size), dtype=np.uint8)
        for offset in offsets:
            halves = (rng.standard_normal(a.blocks) * 0.02).astype(np.float16)
            raw[:, offset:offset + 2] = halves.view(np.uint8).reshape(a.blocks, 2)
        values = dequantize(raw.reshape(-1), qtype).astype(np.float32).reshape(-1)
        assert values.size == a.blocks * block_size and np.isfinite(values).all()
        cases.append({
            "type": qtype.name,
            "ggml_type": int(qtype),
            "count": int(values.size),
            "bytes": base64.b64encode(raw.tobytes()).decode(),
            "float_bits": base64.b64encode(values.astype("<f4").tobytes()).decode(),
        })
    with open(OUT, "w") as f:
        json.dump({"generator": "gguf-py dequantize", "seed": a.seed, "cases": cases}, f, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
