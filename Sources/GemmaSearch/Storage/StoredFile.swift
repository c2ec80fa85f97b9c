/// A file as the index last saw it.
struct StoredFile: Sendable, Hashable {
    var id: Int64
    var path: String
    var size: Int64
    var modified: Int64
    /// SHA-256 of the bytes (hex).
    var hash: String
    var chunkCount: Int
}

/// A file ready to be written: its identity and its embedded chunks (none for a file left out).
struct IndexedFile: Sendable {
    var path: String
    var size: Int64
    var modified: Int64
    var hash: String
    var chunks: [EmbeddedChunk]
    /// Why it has no chunks, when it was left out (kept so that an unchanged file is not read again).
    var skipped: String?
}

/// A chunk with its vector.
struct EmbeddedChunk: Sendable {
    var chunk: TextChunk
    var vector: [Float]
}

/// A stored chunk's details for a result.
struct StoredChunk: Sendable, Hashable {
    var id: Int64
    var path: String
    var startLine: Int
    var endLine: Int
    var title: String?
    var text: String
}
