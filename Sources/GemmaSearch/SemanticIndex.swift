import EmbeddingGemma
import Foundation

/// A semantic index over files: walks folders, chunks text by model tokens, embeds it with
/// EmbeddingGemma's document prompt and stores it in one SQLite file, or in a PostgreSQL
/// database with pgvector (`path` a `postgres://` URL, see ``PostgresLocation``); searches by meaning
/// (query prompt, two-stage compressed vector search) fused with exact lexical matches (FTS5).
///
/// ```swift
/// // The model the index was built with (a new index: the default model).
/// let index = try SemanticIndex(path: "notes.index")
/// let summary = try index.update(["~/notes"])
/// for hit in try index.search("how do I renew the certificate", limit: 5) {
///     print(hit.path, hit.line, hit.score)
/// }
/// ```
///
/// An index is safe to use from many tasks at once; searches run while an update (in this or
/// another process) writes, and see its work batch by batch.
public final class SemanticIndex: Sendable {
    /// Where the index is: its file, or its database's URL without the password.
    public let path: String
    /// The model that embeds queries and documents.
    public let model: EmbeddingModel
    /// What the index was built with.
    public let metadata: IndexMetadata
    let store: any IndexStore

    /// Opens the index at `path` with the model it was built with or the one given, creating the
    /// index when it does not exist (and `create` allows).
    ///
    /// The index is opened once; its metadata says which model it needs
    /// (``IndexModel/recorded(orNew:)`` loads that one).
    /// - Parameters:
    ///   - model: the model to embed with.
    ///   - options: chunking and storage settings for a new (or rebuilt) index; an existing index
    ///     keeps its own, and a chunking or width asked for that differs from it is an error.
    ///   - rebuild: empty the index first (to change model, width or chunking).
    ///   - create: make a new index when there is none at `path` (else ``SearchError/indexNotFound(path:)``).
    /// - Throws: ``SearchError/modelMismatch(path:stored:requested:)`` when the index was built with
    ///   another model or width, ``SearchError/settingMismatch(path:setting:stored:requested:)`` for
    ///   another chunking, ``SearchError/recordedModelUnavailable(path:stored:error:)`` when its model
    ///   does not load, ``SearchError/indexCorrupt(path:reason:)`` for a file that is not an index,
    ///   ``SearchError/settingOutOfRange(_:value:allowed:)`` for bad options.
    public convenience init(path: String, model: IndexModel = .recorded, options: IndexOptions = IndexOptions(),
                            rebuild: Bool = false, create: Bool = true) throws(SearchError) {
        if PostgresLocation.isDatabaseURL(path) {
            let store = try PostgresIndexStore(location: PostgresLocation(url: path), create: create)
            try self.init(store: store, model: model, options: options, rebuild: rebuild, create: create)
            return
        }
        let absolute = FileWalker.absolute(path)
        let exists = FileManager.default.fileExists(atPath: absolute)
        guard exists || create else { throw .indexNotFound(path: absolute) }
        // A new index's file is made once its model has loaded and the options fit it.
        var chosen = model
        if !exists {
            let loaded = try model.load(stored: nil, path: absolute)
            _ = try options.resolved(for: loaded)
            chosen = .given(loaded)
        }
        try self.init(store: SQLiteIndexStore(path: absolute, create: create), model: chosen, options: options,
                      rebuild: rebuild, create: create)
    }

    /// Opens the index at `path` with `model`, creating it when it does not exist.
    /// - Parameters:
    ///   - model: the model to embed with; an existing index must have been built with it.
    ///   - options: chunking and storage settings for a new (or rebuilt) index.
    ///   - rebuild: empty the index first (to change model, width or chunking).
    /// - Throws: the errors of ``init(path:model:options:rebuild:create:)``.
    public convenience init(path: String, model: EmbeddingModel, options: IndexOptions = IndexOptions(), rebuild: Bool = false) throws(SearchError) {
        try self.init(path: path, model: .given(model), options: options, rebuild: rebuild)
    }

    /// Opens an existing index for searching.
    /// - Parameters:
    ///   - model: the model to embed queries with; nil loads the one the index was built with
    ///     (from where it was then).
    /// - Throws: ``SearchError/indexNotFound(path:)`` when there is no index, and the errors of
    ///   ``init(path:model:options:rebuild:create:)``.
    public static func open(path: String, model: EmbeddingModel? = nil) throws(SearchError) -> SemanticIndex {
        if PostgresLocation.isDatabaseURL(path) {
            return try SemanticIndex(store: existingStore(at: path), model: model.map { IndexModel.given($0) } ?? .recorded,
                                     options: IndexOptions(), rebuild: false, create: false)
        }
        let store = try SQLiteIndexStore(path: FileWalker.absolute(path), create: false)
        // The first stage is read while the model loads (a search from a cold start waits for both).
        if let stored = try store.metadata() { store.cache.prefetch(store, dimensions: stored.dimensions) }
        return try SemanticIndex(store: store, model: model.map { IndexModel.given($0) } ?? .recorded, options: IndexOptions(), rebuild: false, create: false)
    }

    /// Opens the index kept in `store`.
    init(store: any IndexStore, model choice: IndexModel, options: IndexOptions, rebuild: Bool, create: Bool) throws(SearchError) {
        let path = store.location
        let recorded = try store.metadata()
        if recorded == nil, !create {
            throw .indexCorrupt(path: path, reason: "it was never set up; index some files first")
        }
        let existing = rebuild ? nil : recorded
        let model = try choice.load(stored: existing, path: path)
        if let existing {
            let requested = IndexMetadata(modelPath: model.sourcePath, modelFingerprint: model.fingerprint, quantization: model.quantization.rawValue,
                                          dimensions: options.dimensions ?? existing.dimensions, documentPrompt: existing.documentPrompt,
                                          chunkTokens: existing.chunkTokens, overlapTokens: existing.overlapTokens)
            guard existing.modelFingerprint == requested.modelFingerprint, existing.dimensions == requested.dimensions else {
                throw .modelMismatch(path: path, stored: existing, requested: requested)
            }
            _ = try options.resolved(against: existing, path: path)
            if existing.modelPath != requested.modelPath { try store.updateModelPath(requested.modelPath) }
            metadata = requested
        } else {
            let settings = try options.resolved(for: model)
            let prompt: String
            do { prompt = try model.promptText(.named("document")) } catch { throw .model(error) }
            let requested = IndexMetadata(modelPath: model.sourcePath, modelFingerprint: model.fingerprint, quantization: model.quantization.rawValue,
                                          dimensions: settings.dimensions ?? model.dimensions, documentPrompt: prompt,
                                          chunkTokens: settings.chunkTokens ?? IndexOptions.defaultChunkTokens,
                                          overlapTokens: settings.overlapTokens ?? IndexOptions.defaultOverlapTokens)
            if rebuild {
                try store.reset(requested)
                metadata = requested
            } else {
                // Another process may have set the index up since it was read: its settings stand.
                let recorded = try store.setUp(requested)
                guard recorded.modelFingerprint == requested.modelFingerprint, recorded.dimensions == requested.dimensions else {
                    throw .modelMismatch(path: path, stored: recorded, requested: requested)
                }
                _ = try options.resolved(against: recorded, path: path)
                metadata = recorded
            }
        }
        self.path = path
        self.model = model
        self.store = store
    }

    /// Brings the index up to date with `paths` (files or folders): new files are embedded,
    /// changed ones (size or time, then content hash) embedded again, deleted ones removed.
    /// Files under other paths stay as they are.
    /// - Parameters:
    ///   - progress: called after every batch (on the calling thread).
    ///   - shouldStop: checked between batches; when it returns true the update ends after
    ///     writing what is finished, and the next update continues from there.
    ///   - embedder: embeds the batches of document chunks; nil: ``model`` does, on the calling
    ///     thread. A server passes its batching queue, so that queries are served between batches.
    /// - Returns: what was done, with the files left out and why.
    @discardableResult
    public func update(_ paths: [String], options: IndexOptions = IndexOptions(), progress: ((UpdateProgress) -> Void)? = nil,
                       shouldStop: @escaping @Sendable () -> Bool = { false }, embedder: DocumentEmbedder? = nil) throws(SearchError) -> UpdateSummary {
        var settings = options
        settings.chunkTokens = metadata.chunkTokens
        settings.overlapTokens = metadata.overlapTokens
        settings.dimensions = metadata.dimensions
        let model = model
        let indexer = Indexer(model: model, store: store, metadata: metadata, options: settings,
                              embed: embedder ?? { requests in model.embed(requests) })
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
        try remove(paths, store: existingStore(at: indexPath))
    }

    /// The store of an existing index: a PostgreSQL URL's database, else the SQLite file at `location`.
    private static func existingStore(at location: String) throws(SearchError) -> any IndexStore {
        if PostgresLocation.isDatabaseURL(location) {
            return try PostgresIndexStore(location: PostgresLocation(url: location), create: false)
        }
        return try SQLiteIndexStore(path: FileWalker.absolute(location), create: false)
    }

    private static func remove(_ paths: [String], store: any IndexStore) throws(SearchError) -> Int {
        var all: [String] = []
        for path in paths { all += try store.filePaths(under: FileWalker.absolute(path)) }
        return try store.remove(paths: all)
    }

    /// Whether the index holds files at or below `path` (an absolute path).
    public func holdsFiles(under path: String) throws(SearchError) -> Bool {
        try !store.filePaths(under: FileWalker.absolute(path)).isEmpty
    }

    /// What the index holds.
    public func statistics() throws(SearchError) -> IndexStatistics {
        try Self.statistics(store: store)
    }

    /// What the index at `indexPath` holds, read without loading a model.
    public static func statistics(ofIndexAt indexPath: String) throws(SearchError) -> IndexStatistics {
        try statistics(store: existingStore(at: indexPath))
    }

    private static func statistics(store: any IndexStore) throws(SearchError) -> IndexStatistics {
        guard let metadata = try store.metadata() else {
            throw .indexCorrupt(path: store.location, reason: "it was never set up; index some files first")
        }
        let counts = try store.counts()
        return IndexStatistics(files: counts.files, skippedFiles: counts.skipped, chunks: counts.chunks, tokens: counts.tokens,
                               bytesOnDisk: counts.bytesOnDisk, metadata: metadata, lastChange: counts.lastChange)
    }
}
