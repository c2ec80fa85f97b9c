import EmbeddingGemma

/// How an index is built; stored with it, so later updates chunk and embed the same way.
///
/// Chunking and width are the index's own once it is built: left nil they take the index's
/// values (a new index: the defaults), and a value other than the index's is an error
/// (``SearchError/settingMismatch(path:setting:stored:requested:)``,
/// ``SearchError/modelMismatch(path:stored:requested:)``) until the index is rebuilt.
public struct IndexOptions: Sendable, Hashable {
    /// Most tokens of text per chunk (nil: the index's own; ``defaultChunkTokens`` for a new one).
    public var chunkTokens: Int?
    /// Tokens repeated between chunks cut mid-paragraph (nil: the index's own; for a new one
    /// ``defaultOverlapTokens``, or less than half a chunk for small chunks).
    public var overlapTokens: Int?
    /// Matryoshka width of the stored vectors: 768, 512, 256 or 128 (nil: the index's own; the
    /// model's full width for a new one).
    public var dimensions: Int?
    /// Files over this size are left out (default 16 MiB; PDFs may be 8 times larger).
    public var maxFileBytes: Int64
    /// Tokens embedded per batch; a batch is also the unit of one write transaction.
    public var batchTokens: Int

    /// The chunk size of a new index when none is given.
    public static let defaultChunkTokens = 512
    /// The overlap of a new index when none is given (and chunks hold over 98 tokens).
    public static let defaultOverlapTokens = 48
    /// The smallest chunk size.
    public static let minimumChunkTokens = 16
    /// Tokens of the model's input kept for the document prompt: chunks hold at most the
    /// model's sequence length less this.
    public static let promptTokens = 64

    public init(chunkTokens: Int? = nil, overlapTokens: Int? = nil, dimensions: Int? = nil,
                maxFileBytes: Int64 = 16 << 20, batchTokens: Int = 4096) {
        self.chunkTokens = chunkTokens
        self.overlapTokens = overlapTokens
        self.dimensions = dimensions
        self.maxFileBytes = maxFileBytes
        self.batchTokens = batchTokens
    }

    /// These options for the index at `path` built as `existing` says: its chunking and width
    /// filled in, and an error for a chunking asked for that differs from its own.
    func resolved(against existing: IndexMetadata, path: String) throws(SearchError) -> IndexOptions {
        if let chunkTokens, chunkTokens != existing.chunkTokens {
            throw .settingMismatch(path: path, setting: .chunkTokens, stored: existing.chunkTokens, requested: chunkTokens)
        }
        if let overlapTokens, overlapTokens != existing.overlapTokens {
            throw .settingMismatch(path: path, setting: .overlapTokens, stored: existing.overlapTokens, requested: overlapTokens)
        }
        var resolved = self
        resolved.chunkTokens = existing.chunkTokens
        resolved.overlapTokens = existing.overlapTokens
        resolved.dimensions = dimensions ?? existing.dimensions
        return resolved
    }

    /// These options for a new index embedded by `model`: the defaults filled in, every value checked.
    func resolved(for model: EmbeddingModel) throws(SearchError) -> IndexOptions {
        var resolved = self
        let chunk = chunkTokens ?? Self.defaultChunkTokens
        resolved.chunkTokens = chunk
        let limit = model.maxSequenceLength - Self.promptTokens
        guard (Self.minimumChunkTokens...limit).contains(chunk) else {
            throw .settingOutOfRange(.chunkTokens, value: chunk, allowed: Self.minimumChunkTokens...max(Self.minimumChunkTokens, limit))
        }
        let overlap = overlapTokens ?? min(Self.defaultOverlapTokens, chunk / 2 - 1)
        resolved.overlapTokens = overlap
        guard overlap >= 0, overlap < chunk / 2 else { throw .settingOutOfRange(.overlapTokens, value: overlap, allowed: 0...(chunk / 2 - 1)) }
        do {
            resolved.dimensions = try model.validate(dimensions: dimensions)
        } catch {
            throw .model(error)
        }
        guard maxFileBytes > 0 else { throw .settingOutOfRange(.maxFileBytes, value: Int(clamping: maxFileBytes), allowed: 1...Int.max) }
        guard batchTokens >= 1 else { throw .settingOutOfRange(.batchTokens, value: batchTokens, allowed: 1...Int.max) }
        return resolved
    }
}

extension IndexMetadata {
    /// The `dimensions` argument for the model: nil for its full width (which need not be a
    /// Matryoshka size), else the stored width.
    func embeddingDimensions(for model: EmbeddingModel) -> Int? {
        dimensions == model.dimensions ? nil : dimensions
    }
}
