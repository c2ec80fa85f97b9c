#!/usr/bin/env python3
"""Writes Tests/EmbeddingGemmaTests/Fixtures/gguf-py-sample.gguf with the `gguf` package (the writer
llama.cpp's converter uses), so the Swift reader is tested against files made by the reference writer.

Usage: python3 -m pip install gguf numpy && scripts/make-gguf-fixture.py
"""
import os

import gguf
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Tests", "EmbeddingGemmaTests", "Fixtures", "gguf-py-sample.gguf")

writer = gguf.GGUFWriter(OUT, "gemma-embedding")
writer.add_block_count(24)
writer.add_uint32("gemma-embedding.attention.sliding_window", 512)
writer.add_float32("gemma-embedding.rope.freq_base", 1000000.0)
writer.add_string("gemma-embedding.pooling_type_name", "mean")
writer.add_token_list(["<pad>", "<eos>", "<bos>", "▁hi"])
writer.add_token_scores([0.0, 0.0, 0.0, -1.5])
writer.add_bool("general.sample.flag", True)

f32 = np.arange(16, dtype=np.float32).reshape(2, 8) / 4
writer.add_tensor("a.f32", f32)
f16 = (np.arange(64, dtype=np.float32).reshape(2, 32) / 8).astype(np.float16)
writer.add_tensor("b.f16", f16)
q = np.linspace(-1, 1, 64, dtype=np.float32).reshape(2, 32)
q8 = gguf.quants.quantize(q, gguf.GGMLQuantizationType.Q8_0)
writer.add_tensor("c.q8_0", q8, raw_shape=q8.shape, raw_dtype=gguf.GGMLQuantizationType.Q8_0)

# Quantization reference: the same float data as F32 and as gguf-py quantized it.
rng = np.random.default_rng(7)
source = (rng.standard_normal((4, 64)) * np.array([[0.01], [1.0], [30.0], [0.0]])).astype(np.float32)
source[1, 5] = 3.0  # a clear maximum
source[1, 40] = -3.5  # a negative maximum (Q4_0 keeps its sign)
writer.add_tensor("q.source", source)
for name, kind in (("q.q8_0", gguf.GGMLQuantizationType.Q8_0), ("q.q4_0", gguf.GGMLQuantizationType.Q4_0)):
    data = gguf.quants.quantize(source, kind)
    writer.add_tensor(name, data, raw_shape=data.shape, raw_dtype=kind)

writer.write_header_to_file()
writer.write_kv_data_to_file()
writer.write_tensors_to_file()
writer.close()
print(OUT, os.path.getsize(OUT))
