/// The weights of one Gemma 3 encoder layer, float32, `[out, in]` row-major.
/// Norm weights are stored as `1 + w`, the factor the RMSNorm multiplies by.
struct GemmaLayerWeights: Sendable {
    let inputNorm: FloatStorage
    let postAttentionNorm: FloatStorage
    let preFeedforwardNorm: FloatStorage
    let postFeedforwardNorm: FloatStorage
    let queryNorm: FloatStorage
    let keyNorm: FloatStorage
    let query: FloatStorage
    let key: FloatStorage
    let value: FloatStorage
    let output: FloatStorage
    let gate: FloatStorage
    let up: FloatStorage
    let down: FloatStorage
    /// Full attention (true) or sliding window (false).
    let isFullAttention: Bool

    /// Reads layer `index` from `file`, checking every shape against `config`.
    init(layer index: Int, from file: SafeTensorsFile, config: GemmaConfig, prefix: String) throws(EmbeddingGemmaError) {
        let p = "\(prefix)layers.\(index)."
        let h = config.hiddenSize
        let qWidth = config.numAttentionHeads * config.headDim
        let kvWidth = config.numKeyValueHeads * config.headDim
        func norm(_ name: String, _ width: Int) throws(EmbeddingGemmaError) -> FloatStorage {
            let raw = try file.floats(p + name, shape: [width])
            return FloatStorage(count: width) { out in
                for i in 0..<width { out[i] = 1 + raw.pointer[i] }
            }
        }
        inputNorm = try norm("input_layernorm.weight", h)
        postAttentionNorm = try norm("post_attention_layernorm.weight", h)
        preFeedforwardNorm = try norm("pre_feedforward_layernorm.weight", h)
        postFeedforwardNorm = try norm("post_feedforward_layernorm.weight", h)
        queryNorm = try norm("self_attn.q_norm.weight", config.headDim)
        keyNorm = try norm("self_attn.k_norm.weight", config.headDim)
        query = try file.floats(p + "self_attn.q_proj.weight", shape: [qWidth, h])
        key = try file.floats(p + "self_attn.k_proj.weight", shape: [kvWidth, h])
        value = try file.floats(p + "self_attn.v_proj.weight", shape: [kvWidth, h])
        output = try file.floats(p + "self_attn.o_proj.weight", shape: [h, qWidth])
        gate = try file.floats(p + "mlp.gate_proj.weight", shape: [config.intermediateSize, h])
        up = try file.floats(p + "mlp.up_proj.weight", shape: [config.intermediateSize, h])
        down = try file.floats(p + "mlp.down_proj.weight", shape: [h, config.intermediateSize])
        isFullAttention = config.isFullAttention(layer: index)
    }
}
