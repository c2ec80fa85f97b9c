/// AdamW over every tensor of a ``TrainableWeights``: dense moments for the layers, the final
/// norm and the head; for the token embeddings, moments only for the rows some batch has used.
/// The other rows have zero moments, so torch's dense AdamW only decays them: that is done to
/// the whole table each step, and the result is the same as torch's dense update.
final class ModelOptimizer: @unchecked Sendable {
    let adamW: AdamW
    /// Steps taken.
    private(set) var step = 0
    /// Moments by tensor index (nil for the embedding table).
    let moments: [(m: FloatBuffer, v: FloatBuffer)?]
    /// Embedding rows with moments: row id → slot in ``rowMoments``.
    private(set) var rowSlots: [Int32: Int] = [:]
    /// `[slots × hidden]` first and second moments of the used embedding rows.
    private(set) var rowM: [Float] = []
    private(set) var rowV: [Float] = []

    init(weights: TrainableWeights, adamW: AdamW) {
        self.adamW = adamW
        moments = weights.tensors.indices.map { index in
            index == weights.embedding ? nil : (FloatBuffer(weights[index].count), FloatBuffer(weights[index].count))
        }
    }

    /// Bytes of optimiser state.
    var byteCount: Int {
        moments.reduce(0) { $0 + ($1.map { 8 * $0.m.count } ?? 0) } + 4 * (rowM.count + rowV.count)
    }

    /// Applies one AdamW step with `gradients` times `gradientScale` (clipping's factor) at learning
    /// rate `rate`, and leaves `gradients` at zero for the next step.
    func apply(_ gradients: Gradients, to weights: TrainableWeights, rate: Float, gradientScale: Float = 1) {
        step += 1
        let step = step, adamW = adamW
        for index in weights.tensors.indices {
            guard let moment = moments[index] else { continue }
            let tensor = weights[index]
            let g = gradients[index]
            // Large tensors in parallel chunks (element-wise, so the result does not depend on the split).
            Parallel.forEachChunk(tensor.count, grain: 1 << 16) { r in
                adamW.update(tensor.values + r.lowerBound, gradient: g + r.lowerBound, m: moment.m.pointer + r.lowerBound,
                             v: moment.v.pointer + r.lowerBound, count: r.count, step: step, rate: rate, decays: tensor.decays,
                             gradientScale: gradientScale, consumesGradient: true)
            }
        }
        // The embedding table: every row decays; rows with moments then take their Adam step.
        let table = weights[weights.embedding]
        let h = table.shape[1]
        let decay = table.decays ? 1 - rate * adamW.weightDecay : 1
        let values = table.values
        Parallel.forEachChunk(table.count, grain: 1 << 18) { r in
            for i in r { values[i] *= decay }
        }
        var current: [Int32: Int] = [:]
        for (row, slot) in gradients.sortedEmbeddingRows {
            current[row] = slot
            if rowSlots[row] == nil {
                rowSlots[row] = rowSlots.count
                rowM.append(contentsOf: repeatElement(0, count: h))
                rowV.append(contentsOf: repeatElement(0, count: h))
            }
        }
        var noDecay = adamW
        noDecay.weightDecay = 0
        gradients.withEmbeddingValues { gradientRows in
            rowM.withUnsafeMutableBufferPointer { m in
                rowV.withUnsafeMutableBufferPointer { v in
                    guard let mp = m.baseAddress, let vp = v.baseAddress else { return }
                    for (row, slot) in rowSlots {
                        var gradient: UnsafeMutablePointer<Float>?
                        if let source = current[row], let base = gradientRows.baseAddress {
                            gradient = UnsafeMutablePointer(mutating: base + source * h)
                        }
                        noDecay.update(values + Int(row) * h, gradient: gradient, m: mp + slot * h, v: vp + slot * h,
                                       count: h, step: step, rate: rate, decays: false, gradientScale: gradientScale)
                    }
                }
            }
        }
        gradients.clearEmbeddingRows()
    }

    /// Restores state saved by a checkpoint.
    func restore(step: Int, rowSlots: [Int32: Int], rowM: [Float], rowV: [Float]) {
        self.step = step
        self.rowSlots = rowSlots
        self.rowM = rowM
        self.rowV = rowV
    }
}
