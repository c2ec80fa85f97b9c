/// What an update did.
public struct UpdateSummary: Sendable, Hashable {
    /// Files found by the walk.
    public var filesFound = 0
    /// Files new to the index, embedded.
    public var filesAdded = 0
    /// Files whose content changed, embedded again.
    public var filesChanged = 0
    /// Files unchanged (same size and time, or same content hash).
    public var filesUnchanged = 0
    /// Files gone from disk, removed from the index.
    public var filesRemoved = 0
    /// Chunks embedded.
    public var chunksEmbedded = 0
    /// Tokens embedded (prompts included).
    public var tokensEmbedded = 0
    /// Files left out, with the reason (hidden and ignored paths are not listed).
    public var skipped: [SkippedFile] = []
    /// Files that were not UTF-8 and were read as Latin-1.
    public var decodedAsLatin1: [String] = []
    /// Whether the update was stopped before the end (what was finished is kept).
    public var interrupted = false
    /// Seconds the update took.
    public var seconds: Double = 0

    public init() {}
}
