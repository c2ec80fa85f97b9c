/// The sentence-transformers head after the encoder: mean pooling over every token
/// (prompt included), the Dense projections (768 → 3072 → 768, no activation), then L2 normalisation.
struct EmbeddingHead: Sendable {
    /// One Dense projection, `[out, in]`.
    struct Dense: Sendable {
        let weight: WeightMatrix
        let bias: FloatStorage?
        var inFeatures: Int { weight.columns }
        var outFeatures: Int { weight.rows }
    }

    let dense: [Dense]
    private let normalizes: Bool
    /// Width of the pooled hidden state.
    let inputWidth: Int
    /// Width of the output.
    let outputWidth: Int

    init(folder: ModelFolder) throws(EmbeddingGemmaError) {
        var dense: [Dense] = []
        for module in folder.denseModules {
            let file = try SafeTensorsFile(path: module.path + "/model.safetensors")
            let weight = try file.floats("linear.weight", shape: [module.outFeatures, module.inFeatures])
            let bias = module.hasBias ? try file.floats("linear.bias", shape: [module.outFeatures]) : nil
            dense.append(Dense(weight: WeightMatrix(weight, rows: module.outFeatures, columns: module.inFeatures), bias: bias))
        }
        self.init(dense: dense, normalizes: folder.normalizes, inputWidth: folder.config.hiddenSize)
    }

    /// A head of `dense` projections (checked to chain from `inputWidth`).
    init(dense: [Dense], normalizes: Bool, inputWidth: Int) {
        self.dense = dense
        self.normalizes = normalizes
        self.inputWidth = inputWidth
        outputWidth = dense.last?.outFeatures ?? inputWidth
    }

    /// The same head with its projections encoded as `quantization` says; with calibration
    /// statistics, Q4_0 / Q8_0 projections are quantized by ``GPTQ``.
    func converted(to quantization: QuantizationType, importance: ImportanceMatrix? = nil) -> EmbeddingHead {
        let type = quantization.type(for: .head)
        let converted = dense.enumerated().map { index, layer in
            Dense(weight: layer.weight.converted(to: type, plan: type.isBlockQuantized ? importance?.headInput(index).map(GPTQ.Plan.init) : nil),
                  bias: layer.bias)
        }
        return EmbeddingHead(dense: converted,
                             normalizes: normalizes, inputWidth: inputWidth)
    }

    /// Pools `hidden` (`[tokens × inputWidth]`, sequences packed per `lengths`) and projects each
    /// sequence to one embedding.
    /// `statistics`, when given, records each projection's input statistics (calibration).
    func apply(hidden: [Float], lengths: [Int], statistics: ActivationStatistics? = nil) -> [[Float]] {
        let count = lengths.count
        var pooled = [Float](repeating: 0, count: count * inputWidth)
        var offset = 0
        for (s, length) in lengths.enumerated() {
            let inv = 1 / Float(max(length, 1))
            for t in offset..<(offset + length) {
                for i in 0..<inputWidth { pooled[s * inputWidth + i] += hidden[t * inputWidth + i] }
            }
            for i in 0..<inputWidth { pooled[s * inputWidth + i] *= inv }
            offset += length
        }
        var current = pooled
        let scratchCount = dense.map { Matmul.scratchCount(for: $0.weight) }.max() ?? 0
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(scratchCount, 1))
        defer { scratch.deallocate() }
        for (index, layer) in dense.enumerated() {
            var next = [Float](repeating: 0, count: count * layer.outFeatures)
            current.withUnsafeBufferPointer { input in
                next.withUnsafeMutableBufferPointer { output in
                    guard let ip = input.baseAddress, let op = output.baseAddress else { return }
                    statistics?.recordHead(index, input: ip, rows: count, width: layer.inFeatures)
                    Matmul.linear(ip, rows: count, weight: layer.weight, into: op, scratch: scratch, activations: .int8WhereFaster)
                }
            }
            if let bias = layer.bias {
                for r in 0..<count {
                    for i in 0..<layer.outFeatures { next[r * layer.outFeatures + i] += bias.pointer[i] }
                }
            }
            current = next
        }
        return (0..<count).map { r in
            let row = Array(current[(r * outputWidth)..<((r + 1) * outputWidth)])
            return normalizes ? VectorMath.normalized(row) : row
        }
    }
}
