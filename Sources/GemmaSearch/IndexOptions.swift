import EmbeddingGemma

/// How an index is built; stored with it, so later updates chunk and embed the same way.
public struct IndexOptions: Sendable, Hashable {
    /// Most tokens of text per chunk (default 512).
    public var chunkTokens: Int
    /// Tokens repeated between chunks cut mid-paragraph (default 48).
    public var overlapTokens: Int
    /// Matryoshka width of the stored vectors: 768 (default), 512, 256 or 128.
    public var dimensions: Int?
    /// Files over this size are left out (default 16 MiB; PDFs may be 8 times larger).
    public var maxFileBytes: Int64
    /// Tokens embedded per batch; a batch is also the unit of one write transaction.
    public var batchTokens: Int

    public init(chunkTokens: Int = 512, overlapTokens: Int = 48, dimensions: Int? = nil,
                maxFileBytes: Int64 = 16 << 20, batchTokens: Int = 4096) {
        self.chunkTokens = chunkTokens
        self.overlapTokens = overlapTokens
        self.dimensions = dimensions
        self.maxFileBytes = maxFileBytes
        self.batchTokens = batchTokens
    }

    /// Checks the values against `model`.
    func validate(for model: EmbeddingModel) throws(SearchError) {
        let limit = model.maxSequenceLength - 64
        guard (16...limit).contains(chunkTokens) else {
            throw .invalidOption("--chunk-tokens must be between 16 and \(limit) (the model reads \(model.maxSequenceLength) tokens, prompt included)")
        }
        guard overlapTokens >= 0, overlapTokens < chunkTokens / 2 else {
            throw .invalidOption("the overlap must be at least 0 and under half of --chunk-tokens")
        }
        if let dimensions, !EmbeddingModel.supportedDimensions.contains(dimensions) || dimensions > model.dimensions {
            throw .model(.unsupportedDimensions(dimensions, supported: EmbeddingModel.supportedDimensions.filter { $0 <= model.dimensions }))
        }
        guard maxFileBytes > 0 else { throw .invalidOption("the file size cap must be positive") }
        guard batchTokens >= 1 else { throw .invalidOption("the batch size must be positive") }
    }
}

extension IndexMetadata {
    /// The `dimensions` argument for the model: nil for its full width (which need not be a
    /// Matryoshka size), else the stored width.
    func embeddingDimensions(for model: EmbeddingModel) -> Int? {
        dimensions == model.dimensions ? nil : dimensions
    }
}
