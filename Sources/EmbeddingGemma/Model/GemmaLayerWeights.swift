/// The weights of one Gemma 3 encoder layer. Matrices are `[out, in]` row-major in any
/// ``WeightMatrix`` encoding; norm weights are float32 and stored as `1 + w`, the factor the
/// RMSNorm multiplies by (GGUF files store them that way too).
struct GemmaLayerWeights: Sendable {
    let inputNorm: FloatStorage
    let postAttentionNorm: FloatStorage
    let preFeedforwardNorm: FloatStorage
    let postFeedforwardNorm: FloatStorage
    let queryNorm: FloatStorage
    let keyNorm: FloatStorage
    let query: WeightMatrix
    let key: WeightMatrix
    let value: WeightMatrix
    let output: WeightMatrix
    let gate: WeightMatrix
    let up: WeightMatrix
    let down: WeightMatrix
    /// Full attention (true) or sliding window (false).
    let isFullAttention: Bool

    /// The matrices in a fixed order with their roles.
    var matrices: [(WeightMatrix, WeightRole)] {
        [(query, .attention), (key, .attention), (value, .attention), (output, .attention),
         (gate, .feedForward), (up, .feedForward), (down, .feedForward)]
    }

    /// Floats of decode scratch the layer's products need (0 when none is decoded to float32 first).
    var scratchCount: Int { matrices.map { Matmul.scratchCount(for: $0.0) }.max() ?? 0 }

    init(
        norms: (input: FloatStorage, postAttention: FloatStorage, preFeedforward: FloatStorage,
                postFeedforward: FloatStorage, query: FloatStorage, key: FloatStorage),
        query: WeightMatrix, key: WeightMatrix, value: WeightMatrix, output: WeightMatrix,
        gate: WeightMatrix, up: WeightMatrix, down: WeightMatrix, isFullAttention: Bool
    ) {
        inputNorm = norms.input
        postAttentionNorm = norms.postAttention
        preFeedforwardNorm = norms.preFeedforward
        postFeedforwardNorm = norms.postFeedforward
        queryNorm = norms.query
        keyNorm = norms.key
        self.query = query
        self.key = key
        self.value = value
        self.output = output
        self.gate = gate
        self.up = up
        self.down = down
        self.isFullAttention = isFullAttention
    }

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
        func matrix(_ name: String, _ rows: Int, _ columns: Int) throws(EmbeddingGemmaError) -> WeightMatrix {
            WeightMatrix(try file.floats(p + name, shape: [rows, columns]), rows: rows, columns: columns)
        }
        self.init(
            norms: (try norm("input_layernorm.weight", h), try norm("post_attention_layernorm.weight", h),
                    try norm("pre_feedforward_layernorm.weight", h), try norm("post_feedforward_layernorm.weight", h),
                    try norm("self_attn.q_norm.weight", config.headDim), try norm("self_attn.k_norm.weight", config.headDim)),
            query: try matrix("self_attn.q_proj.weight", qWidth, h),
            key: try matrix("self_attn.k_proj.weight", kvWidth, h),
            value: try matrix("self_attn.v_proj.weight", kvWidth, h),
            output: try matrix("self_attn.o_proj.weight", h, qWidth),
            gate: try matrix("mlp.gate_proj.weight", config.intermediateSize, h),
            up: try matrix("mlp.up_proj.weight", config.intermediateSize, h),
            down: try matrix("mlp.down_proj.weight", h, config.intermediateSize),
            isFullAttention: config.isFullAttention(layer: index))
    }

    /// The same layer with its matrices encoded as `quantization` says; with `importance` (and this
    /// layer's index in it), Q4_0 / Q8_0 matrices are quantized by ``GPTQ`` against their inputs.
    func converted(to quantization: QuantizationType, importance: (ImportanceMatrix, layer: Int)? = nil) -> GemmaLayerWeights {
        let attention = quantization.type(for: .attention)
        let feedForward = quantization.type(for: .feedForward)
        let needsPlans = attention.isBlockQuantized || feedForward.isBlockQuantized
        func plan(_ site: ActivationStatistics.Site) -> GPTQ.Plan? {
            guard needsPlans else { return nil }
            return importance.flatMap { $0.0.input(layer: $0.layer, site: site) }.map(GPTQ.Plan.init)
        }
        let attentionInput = plan(.attentionInput)
        let feedForwardInput = plan(.feedForwardInput)
        return GemmaLayerWeights(
            norms: (inputNorm, postAttentionNorm, preFeedforwardNorm, postFeedforwardNorm, queryNorm, keyNorm),
            query: query.converted(to: attention, plan: attentionInput),
            key: key.converted(to: attention, plan: attentionInput),
            value: value.converted(to: attention, plan: attentionInput),
            output: output.converted(to: attention, plan: plan(.attentionOutput)),
            gate: gate.converted(to: feedForward, plan: feedForwardInput),
            up: up.converted(to: feedForward, plan: feedForwardInput),
            down: down.converted(to: feedForward, plan: plan(.feedForwardHidden)),
            isFullAttention: isFullAttention)
    }
}
