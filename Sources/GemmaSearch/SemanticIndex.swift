import EmbeddingGemma
import Foundation

/// A local semantic index over files: walks folders, chunks text by model tokens, embeds it with
/// EmbeddingGemma's document prompt and stores it in one SQLite file; searches by meaning
/// (query prompt, two-stage compressed vector search) fused with exact lexical matches (FTS5).
///
/// ```swift
/// let model = try EmbeddingModel()
/// let index = try SemanticIndex(path: "notes.index", model: model)
/// let summary = try index.update(["~/notes"])
/// for hit in try index.search("how do I renew the certificate", limit: 5) {
///     print(hit.path, hit.line, hit.score)
/// }
/// ```
///
/// An index is safe to use from many tasks at once; searches run while an update (in this or
/// another process) writes, and see its work batch by batch.
public final class SemanticIndex: Sendable {
    /// The index file.
    public let path: String
    /// The model that embeds queries and documents.
    public let model: EmbeddingModel
    /// What the index was built with.
    public let metadata: IndexMetadata
    let store: any IndexStore

    /// Opens the index at `path`, creating it when it does not exist.
    /// - Parameters:
    ///   - model: the model to embed with; an existing index must have been built with it.
    ///   - options: chunking and storage settings for a new (or rebuilt) index; an existing index
    ///     keeps its own, except that a `dimensions` different from the stored one is an error.
    ///   - rebuild: empty the index first (to change model, width or chunking).
    /// - Throws: ``SearchError/modelMismatch(index:requested:)`` when the index was built with
    ///   another model or width (rebuild to change them), ``SearchError/indexCorrupt(path:reason:)``
    ///   for a file that is not an index, ``SearchError/invalidOption(_:)`` for bad options.
    public init(path: String, model: EmbeddingModel, options: IndexOptions = IndexOptions(), rebuild: Bool = false) throws(SearchError) {
        let absolute = FileWalker.absolute(path)
        let store = try SQLiteIndexStore(path: absolute, create: true)
        let fingerprint = model.fingerprint
        let modelPath = model.sourcePath
        if let existing = try store.metadata(), !rebuild {
            let requested = IndexMetadata(modelPath: modelPath, modelFingerprint: fingerprint, quantization: model.quantization.rawValue,
                                          dimensions: options.dimensions ?? existing.dimensions, documentPrompt: existing.documentPrompt,
                                          chunkTokens: existing.chunkTokens, overlapTokens: existing.overlapTokens)
            guard existing.modelFingerprint == fingerprint, existing.dimensions == requested.dimensions else {
                throw .modelMismatch(index: existing.modelDescription, requested: requested.modelDescription)
            }
            if existing.modelPath != modelPath { try store.updateModelPath(modelPath) }
            metadata = requested
        } else {
            try options.validate(for: model)
            let prompt: String
            do { prompt = try model.promptText(.named("document")) } catch { throw .model(error) }
            metadata = IndexMetadata(modelPath: modelPath, modelFingerprint: fingerprint, quantization: model.quantization.rawValue,
                                     dimensions: options.dimensions ?? model.dimensions, documentPrompt: prompt,
                                     chunkTokens: options.chunkTokens, overlapTokens: options.overlapTokens)
            try store.reset(metadata)
        }
        self.path = absolute
        self.model = model
        self.store = store
    }

    /// Opens an existing index for searching.
    /// - Parameters:
    ///   - model: the model to embed queries with; nil loads the one the index was built with
    ///     (from where it was then).
    /// - Throws: ``SearchError/indexNotFound(path:)`` when there is no index, and the errors of
    ///   ``init(path:model:options:rebuild:)``.
    public static func open(path: String, model: EmbeddingModel? = nil) throws(SearchError) -> SemanticIndex {
        let absolute = FileWalker.absolute(path)
        let store = try SQLiteIndexStore(path: absolute, create: false)
        guard let metadata = try store.metadata() else {
            throw .indexCorrupt(path: absolute, reason: "it was never set up; index some files first")
        }
        let loaded: EmbeddingModel
        if let model {
            loaded = model
        } else {
            // The file or folder the index was built from, re-encoded in memory as it was then if need be.
            let stored = QuantizationType(rawValue: metadata.quantization)
            do {
                let base = try EmbeddingModel(path: metadata.modelPath)
                loaded = base.quantization == stored || stored == nil ? base : try base.converted(to: stored ?? base.quantization)
            } catch {
                throw .model(error)
            }
        }
        return try SemanticIndex(path: absolute, model: loaded, options: IndexOptions(dimensions: metadata.dimensions))
    }

    /// Brings the index up to date with `paths` (files or folders): new files are embedded,
    /// changed ones (size or time, then content hash) embedded again, deleted ones removed.
    /// Files under other paths stay as they are.
    /// - Parameters:
    ///   - progress: called after every batch (on the calling thread).
    ///   - shouldStop: checked between batches; when it returns true the update ends after
    ///     writing what is finished, and the next update continues from there.
    /// - Returns: what was done, with the files left out and why.
    @discardableResult
    public func update(_ paths: [String], options: IndexOptions = IndexOptions(), progress: ((UpdateProgress) -> Void)? = nil,
                       shouldStop: @escaping @Sendable () -> Bool = { false }) throws(SearchError) -> UpdateSummary {
        var settings = options
        settings.chunkTokens = metadata.chunkTokens
        settings.overlapTokens = metadata.overlapTokens
        settings.dimensions = metadata.dimensions
        let indexer = Indexer(model: model, store: store, metadata: metadata, options: settings)
        return try indexer.run(paths, progress: progress, shouldStop: shouldStop)
    }

    /// Removes `paths` (files, or folders with everything under them) from the index.
    /// - Returns: how many files were removed.
    @discardableResult
    public func remove(_ paths: [String]) throws(SearchError) -> Int {
        try Self.remove(paths, store: store)
    }

    /// Removes `paths` from the index at `indexPath` without loading a model.
    @discardableResult
    public static func remove(_ paths: [String], fromIndexAt indexPath: String) throws(SearchError) -> Int {
        try remove(paths, store: SQLiteIndexStore(path: FileWalker.absolute(indexPath), create: false))
    }

    private static func remove(_ paths: [String], store: any IndexStore) throws(SearchError) -> Int {
        var all: [String] = []
        for path in paths { all += try store.filePaths(under: FileWalker.absolute(path)) }
        return try store.remove(paths: all)
    }

    /// What the index holds.
    public func statistics() throws(SearchError) -> IndexStatistics {
        try Self.statistics(store: store)
    }

    /// What the index at `indexPath` holds, read without loading a model.
    public static func statistics(ofIndexAt indexPath: String) throws(SearchError) -> IndexStatistics {
        try statistics(store: SQLiteIndexStore(path: FileWalker.absolute(indexPath), create: false))
    }

    private static func statistics(store: any IndexStore) throws(SearchError) -> IndexStatistics {
        guard let metadata = try store.metadata() else {
            throw .indexCorrupt(path: store.location, reason: "it was never set up; index some files first")
        }
        let counts = try store.counts()
        return IndexStatistics(files: counts.files, skippedFiles: counts.skipped, chunks: counts.chunks, tokens: counts.tokens,
                               bytesOnDisk: counts.bytesOnDisk, metadata: metadata)
    }
}
