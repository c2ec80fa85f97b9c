/// How a model's weight matrices are encoded: kept in float32, converted to 16-bit floats, or
/// quantized to GGUF's Q8_0 / Q4_0 blocks. Norms always stay float32 and activations are kept in
/// float32 (EmbeddingGemma overflows float16 activations); only bf16's products round them (below).
public enum QuantizationType: String, Sendable, CaseIterable {
    /// Float32 weights: the reference's exact results.
    case f32
    /// IEEE float16 weights.
    case f16
    /// bfloat16 weights: half the memory of float32. On a CPU with AVX512-BF16 (AMD Zen 4 and later,
    /// Intel Cooper Lake / Sapphire Rapids and later) the products also run in bf16 — each product's
    /// inputs rounded to bf16, sums kept in float32 — at up to twice float32's speed; elsewhere the
    /// weights are decoded to float32 for float32 products. Never the default: the golden corpus
    /// scores a mean cosine above 0.999 to the reference (BENCHMARKS.md).
    case bf16
    /// 8-bit blocks (32 int8 and one float16 scale): 1.06 bytes per weight.
    case q8_0
    /// 4-bit blocks (32 int4 and one float16 scale): 0.56 bytes per weight.
    case q4_0
    /// The split of Google's "Mixed Precision" QAT checkpoint: int4 (Q4_0) for the token
    /// embeddings, the feed-forward layers and the Dense projections of the head; int8 (Q8_0)
    /// for the attention projections.
    case mixed

    /// The encoding of a weight matrix that plays `role`.
    func type(for role: WeightRole) -> GGMLType {
        switch self {
        case .f32: return .f32
        case .f16: return .f16
        case .bf16: return .bf16
        case .q8_0: return .q8_0
        case .q4_0: return .q4_0
        case .mixed: return role == .attention ? .q8_0 : .q4_0
        }
    }

    /// `general.file_type` of a GGUF file with these weights (llama.cpp's `llama_ftype`).
    var fileType: UInt32 {
        switch self {
        case .f32: return 0
        case .f16: return 1
        case .q4_0, .mixed: return 2
        case .q8_0: return 7
        case .bf16: return 32
        }
    }
}

/// What a weight matrix does, which decides its encoding under a ``QuantizationType``.
enum WeightRole: Sendable {
    /// The token embedding table.
    case embedding
    /// Query, key, value and output projections.
    case attention
    /// Gate, up and down projections.
    case feedForward
    /// The sentence-transformers Dense projections.
    case head
}
