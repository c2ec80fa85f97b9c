/// Gradients of a ``TrainableWeights``, summed over the passes of a step: a dense buffer for
/// every tensor but the token embeddings, whose gradient is kept as the rows of the tokens the
/// step saw (a batch touches a few thousand of the 262 144 rows).
final class Gradients: @unchecked Sendable {
    /// Dense gradients by tensor index (nil for the embedding table).
    let dense: [FloatBuffer?]
    /// Embedding rows with a gradient: row id → position in ``embeddingValues``.
    private(set) var embeddingRows: [Int32: Int] = [:]
    /// `[rows × hidden]` gradient rows, in the order rows were first touched.
    private(set) var embeddingValues: [Float] = []
    let hidden: Int

    init(weights: TrainableWeights) {
        dense = weights.tensors.indices.map { index in
            index == weights.embedding ? nil : FloatBuffer(weights[index].count)
        }
        hidden = weights.config.hiddenSize
    }

    /// The dense gradient of tensor `index`.
    subscript(_ index: Int) -> UnsafeMutablePointer<Float> {
        guard let buffer = dense[index] else { preconditionFailure("tensor \(index) has a sparse gradient") }
        return buffer.pointer
    }

    /// Adds `values` (`hidden` floats) times `factor` to the gradient of embedding row `row`.
    func addEmbedding(row: Int32, _ values: UnsafePointer<Float>, factor: Float) {
        let slot: Int
        if let existing = embeddingRows[row] {
            slot = existing
        } else {
            slot = embeddingRows.count
            embeddingRows[row] = slot
            embeddingValues.append(contentsOf: repeatElement(0, count: hidden))
        }
        embeddingValues.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            let target = base + slot * hidden
            for i in 0..<hidden { target[i] += values[i] * factor }
        }
    }

    /// The embedding rows with a gradient, sorted, with their gradient rows.
    var sortedEmbeddingRows: [(row: Int32, slot: Int)] {
        embeddingRows.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// Forgets the embedding rows (their gradient is zero again), keeping the memory.
    func clearEmbeddingRows() {
        embeddingRows.removeAll(keepingCapacity: true)
        embeddingValues.removeAll(keepingCapacity: true)
    }

    /// Sets every gradient to zero (and forgets the embedding rows).
    func zero() {
        for buffer in dense {
            guard let buffer else { continue }
            let values = buffer.pointer
            Parallel.forEachChunk(buffer.count, grain: 1 << 16) { range in
                (values + range.lowerBound).update(repeating: 0, count: range.count)
            }
        }
        embeddingRows = [:]
        embeddingValues = []
    }

    /// Global L2 norm of every gradient, as gradient clipping measures it (float sums of 4 096
    /// values added in double precision, chunks shared out across threads).
    var norm: Double {
        var sum = 0.0
        for buffer in dense {
            guard let buffer else { continue }
            sum += Self.squares(buffer.pointer, count: buffer.count)
        }
        sum += embeddingValues.withUnsafeBufferPointer { $0.baseAddress.map { Self.squares($0, count: embeddingValues.count) } ?? 0 }
        return sum.squareRoot()
    }

    private static func squares(_ values: UnsafePointer<Float>, count: Int) -> Double {
        let block = 4096
        let blocks = (count + block - 1) / block
        let partial = FloatBuffer(blocks)
        Parallel.forEachChunk(blocks, grain: 16) { range in
            for b in range {
                var s: Float = 0
                for i in (b * block)..<min(count, (b + 1) * block) { s += values[i] * values[i] }
                partial.pointer[b] = s
            }
        }
        var total = 0.0
        for b in 0..<blocks { total += Double(partial.pointer[b]) }
        return total
    }

    /// Read access to the embedding gradient rows.
    func withEmbeddingValues<R>(_ body: (UnsafeBufferPointer<Float>) -> R) -> R {
        embeddingValues.withUnsafeBufferPointer(body)
    }
}
