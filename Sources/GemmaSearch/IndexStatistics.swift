import Foundation

/// What an index holds.
public struct IndexStatistics: Sendable, Hashable {
    /// Files with chunks.
    public var files: Int
    /// Files remembered as left out (binary, empty, ...), so they are not read again while unchanged.
    public var skippedFiles: Int
    /// Chunks.
    public var chunks: Int
    /// Tokens of all chunks' text.
    public var tokens: Int
    /// Bytes of the index file and its write-ahead log.
    public var bytesOnDisk: Int64
    /// What the index was built with.
    public var metadata: IndexMetadata
    /// When files were last added, changed or removed (nil: never).
    public var lastChange: Date?
}
