import EmbeddingGemma

/// Errors of the search index, each with a message that says what to do.
public enum SearchError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No index file at `path` (searching before indexing).
    case indexNotFound(path: String)
    /// The file at `path` is not a readable index (not SQLite, or a schema this version does not know).
    case indexCorrupt(path: String, reason: String)
    /// Another process holds the index's write lock for longer than the wait allows.
    case indexLocked(path: String)
    /// The index was built with another model, quantization or width than the one given.
    case modelMismatch(index: String, requested: String)
    /// The query is empty or only white space.
    case emptyQuery
    /// A result count below 1.
    case invalidLimit(Int)
    /// A path to index or to search under does not exist.
    case pathNotFound(String)
    /// An invalid option value, with the reason.
    case invalidOption(String)
    /// SQLite reported an error.
    case storage(String)
    /// The embedding model failed (loading, unsupported dimensions, ...).
    case model(EmbeddingGemmaError)

    public var description: String {
        switch self {
        case .indexNotFound(let path):
            return "no index at \(path): build one with `gemma-embed index PATH...` (or name another with --index)"
        case .indexCorrupt(let path, let reason):
            return "\(path) is not a usable search index (\(reason)); move it away or rebuild it with `gemma-embed index --rebuild PATH...`"
        case .indexLocked(let path):
            return "\(path) is locked by another process that is writing to it; wait for it to finish and try again"
        case .modelMismatch(let index, let requested):
            return "the index was built with \(index), not \(requested); use that model, or re-embed everything with --rebuild"
        case .emptyQuery:
            return "the query is empty: give some words to search for"
        case .invalidLimit(let limit):
            return "the number of results must be at least 1 (got \(limit))"
        case .pathNotFound(let path):
            return "\(path): no such file or folder"
        case .invalidOption(let reason):
            return reason
        case .storage(let message):
            return "index storage error: \(message)"
        case .model(let error):
            return error.description
        }
    }
}
