/// The sentence-transformers head after the encoder: mean pooling over every token
/// (prompt included), the Dense projections (768 → 3072 → 768, no activation), then L2 normalisation.
struct EmbeddingHead: Sendable {
    private struct Dense: Sendable {
        let weight: FloatStorage
        let bias: FloatStorage?
        let inFeatures: Int
        let outFeatures: Int
    }

    private let dense: [Dense]
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
            dense.append(Dense(weight: weight, bias: bias, inFeatures: module.inFeatures, outFeatures: module.outFeatures))
        }
        self.dense = dense
        normalizes = folder.normalizes
        inputWidth = folder.config.hiddenSize
        outputWidth = folder.embeddingDimension
    }

    /// Pools `hidden` (`[tokens × inputWidth]`, sequences packed per `lengths`) and projects each
    /// sequence to one embedding.
    func apply(hidden: [Float], lengths: [Int]) -> [[Float]] {
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
        for layer in dense {
            var next = [Float](repeating: 0, count: count * layer.outFeatures)
            current.withUnsafeBufferPointer { input in
                next.withUnsafeMutableBufferPointer { output in
                    guard let ip = input.baseAddress, let op = output.baseAddress else { return }
                    Matmul.linear(ip, rows: count, inFeatures: layer.inFeatures, weight: layer.weight.pointer,
                                  outFeatures: layer.outFeatures, into: op)
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
