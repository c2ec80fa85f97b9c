import Foundation

/// Where an index keeps what it knows: the settings it was built with, the files it has seen,
/// their chunks with text and vectors. ``SemanticIndex`` reads and writes only through this; a
/// store is one folder under `Storage/` (`SQLite/`: one file, the dense search's first stage in
/// memory; `PostgreSQL/`: a database with pgvector, shared by many processes).
///
/// A store writes whole files in one transaction (a reader sees all of a file's chunks or none),
/// and may be read while another task or process writes.
protocol IndexStore: Sendable {
    /// Where the index is, as messages name it (for SQLite, the file's absolute path).
    var location: String { get }
    /// Files the store keeps on disk, which indexing leaves out when they lie under its roots.
    var ownFiles: Set<String> { get }

    // MARK: Settings

    /// What the index was built with; nil for an index never set up.
    func metadata() throws(SearchError) -> IndexMetadata?
    /// Empties the index and records `metadata` (a new or rebuilt index).
    func reset(_ metadata: IndexMetadata) throws(SearchError)
    /// Sets a new index up with `metadata`, unless another writer set it up first: returns the
    /// metadata recorded (a store shared by several processes must decide this atomically).
    func setUp(_ metadata: IndexMetadata) throws(SearchError) -> IndexMetadata
    /// Records that the model was found at `modelPath` (same fingerprint, another place).
    func updateModelPath(_ modelPath: String) throws(SearchError)

    // MARK: Files

    /// Every file the index knows, by path.
    func files() throws(SearchError) -> [String: StoredFile]
    /// The file the index knows at exactly `path`, if any.
    func file(at path: String) throws(SearchError) -> StoredFile?
    /// Paths of indexed files equal to or below `prefix` (an absolute path; `/a/bc` is not below `/a/b`).
    func filePaths(under prefix: String) throws(SearchError) -> [String]
    /// Writes `files` in one transaction: each replaces what the index had for its path.
    func commit(_ files: [IndexedFile]) throws(SearchError)
    /// Records a new modification time for files whose bytes did not change.
    func touch(_ updates: [(id: Int64, modified: Int64)]) throws(SearchError)
    /// Removes files and their chunks; returns how many files were removed.
    @discardableResult
    func remove(paths: [String]) throws(SearchError) -> Int
    /// How much the index holds.
    func counts() throws(SearchError) -> IndexCounts

    // MARK: Search

    /// The dense search's first, approximate stage: the `limit` chunks under `prefix` (all when
    /// nil) nearest to `query`, and approximate cosines of the `extra` chunks among those under
    /// `prefix`. `candidates` (at least `limit`) is the effort: how many chunks an approximate
    /// stage looks at closely.
    func denseCandidates(for query: [Float], limit: Int, candidates: Int, under prefix: String?,
                         scoring extra: [Int64]) throws(SearchError) -> DenseCandidates
    /// The exact float32 vectors of `ids` (for the final ordering).
    func vectors(_ ids: [Int64]) throws(SearchError) -> [Int64: [Float]]
    /// Path, lines, title, text and text hash of chunks.
    func chunks(_ ids: [Int64]) throws(SearchError) -> [Int64: (chunk: StoredChunk, textHash: Int64)]
    /// Chunks whose text holds `terms` one after another (as FTS5's unicode61 tokenizer splits
    /// words), the best BM25 first, at most `limit`, and how many chunks hold them in all.
    func phraseMatches(_ terms: [String], limit: Int) throws(SearchError) -> (ids: [Int64], total: Int)
}

extension IndexStore {
    /// A store used by one process at a time: sets the index up (as ``reset(_:)``).
    func setUp(_ metadata: IndexMetadata) throws(SearchError) -> IndexMetadata {
        try reset(metadata)
        return metadata
    }
}

/// The first stage of a dense search, as a store answers it.
struct DenseCandidates: Sendable {
    /// The chunks nearest to the query, with their approximate cosines, best first.
    var nearest: [(id: Int64, score: Float)]
    /// Approximate cosines of the extra chunks asked for that lie under the path searched.
    var scored: [Int64: Float]
    /// Chunks in the whole index when they were chosen (0: nothing to search).
    var chunkCount: Int
}

/// How much an index holds.
struct IndexCounts: Sendable, Hashable {
    var files: Int
    var skipped: Int
    var chunks: Int
    var tokens: Int
    var bytesOnDisk: Int64
    /// When files were last written or removed (nil: never, or by a version that did not record it).
    var lastChange: Date?
}
