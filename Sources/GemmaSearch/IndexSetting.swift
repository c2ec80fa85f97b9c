/// A setting of ``IndexOptions`` that errors name.
public enum IndexSetting: String, Sendable, Hashable, CustomStringConvertible {
    /// ``IndexOptions/chunkTokens``.
    case chunkTokens
    /// ``IndexOptions/overlapTokens``.
    case overlapTokens
    /// ``IndexOptions/maxFileBytes``.
    case maxFileBytes
    /// ``IndexOptions/batchTokens``.
    case batchTokens

    /// The setting in words: `chunk size`.
    public var description: String {
        switch self {
        case .chunkTokens: return "chunk size"
        case .overlapTokens: return "chunk overlap"
        case .maxFileBytes: return "file size cap"
        case .batchTokens: return "batch size"
        }
    }

    /// What its values count: `tokens` or `bytes`.
    public var unit: String { self == .maxFileBytes ? "bytes" : "tokens" }
}
