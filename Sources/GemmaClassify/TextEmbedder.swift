import EmbeddingGemma

/// Embeds many texts through the request-level engine API, a batch of requests at a time, and
/// reports progress after each batch.
enum TextEmbedder {
    /// The vectors of `texts` (each L2-normalised at `dimensions`), in order.
    /// - Throws: ``ClassifyError/model(index:_:)`` with the position of the first text that fails.
    static func vectors(_ texts: [String], model: EmbeddingModel, prompt: Prompt, dimensions: Int, batchSize: Int = 64,
                        progress: ((EmbeddingProgress) -> Void)? = nil) throws(ClassifyError) -> [[Float]] {
        let start = ContinuousClock.now
        var vectors: [[Float]] = []
        vectors.reserveCapacity(texts.count)
        var offset = 0
        while offset < texts.count {
            let end = min(texts.count, offset + max(1, batchSize))
            let requests = texts[offset..<end].map { EmbeddingRequest(text: $0, prompt: prompt, dimensions: dimensions) }
            for (index, result) in model.embed(requests).enumerated() {
                switch result {
                case .success(let embedding): vectors.append(embedding.vector)
                case .failure(let error): throw .model(index: offset + index, error)
                }
            }
            offset = end
            let elapsed = start.duration(to: .now)
            progress?(EmbeddingProgress(done: offset, total: texts.count,
                                        elapsed: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18))
        }
        return vectors
    }

    /// `vector` in float64, scaled to unit length (a zero vector stays zero).
    static func unit(_ vector: [Float]) -> [Double] {
        let values = vector.map(Double.init)
        let norm = values.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? values.map { $0 / norm } : values
    }
}
