/// How far an update has come; passed to the progress callback after every batch.
public struct UpdateProgress: Sendable, Hashable {
    /// Files found by the walk.
    public var filesFound: Int
    /// Files that need reading (new or changed); the rest are unchanged.
    public var filesToProcess: Int
    /// Of those, files finished (written, found unchanged by hash, or left out).
    public var filesProcessed: Int
    /// Chunks embedded so far.
    public var chunksEmbedded: Int
    /// Tokens embedded so far (prompts included).
    public var tokensEmbedded: Int
    /// Bytes of the files to process.
    public var bytesToProcess: Int64
    /// Of those, bytes finished.
    public var bytesProcessed: Int64
    /// Seconds since the update started.
    public var elapsed: Double

    /// Tokens per second embedded so far.
    public var tokensPerSecond: Double { elapsed > 0 ? Double(tokensEmbedded) / elapsed : 0 }

    /// Seconds left, estimated from the bytes still to process (nil before any progress).
    public var secondsRemaining: Double? {
        guard bytesProcessed > 0, elapsed > 0 else { return nil }
        return elapsed * Double(bytesToProcess - bytesProcessed) / Double(bytesProcessed)
    }
}
