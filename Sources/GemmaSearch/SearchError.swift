import EmbeddingGemma

/// Errors of the search index, each with the values a caller needs to act on it (which index,
/// which model, which setting) and a message that says what to do.
public enum SearchError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No index file at `path` (searching before indexing).
    case indexNotFound(path: String)
    /// The file at `path` is not a readable index (not SQLite, or a schema this version does not know).
    case indexCorrupt(path: String, reason: String)
    /// Another process holds the index's write lock for longer than the wait allows.
    case indexLocked(path: String)
    /// The index at `path` was built with another model, quantization or width (`stored`) than
    /// the one given (`requested`).
    case modelMismatch(path: String, stored: IndexMetadata, requested: IndexMetadata)
    /// The model the index at `path` was built with (`stored`) could not be loaded from where it
    /// was then.
    case recordedModelUnavailable(path: String, stored: IndexMetadata, error: EmbeddingGemmaError)
    /// A setting asked for differs from the one the index at `path` was built with: only a
    /// rebuilt index takes another.
    case settingMismatch(path: String, setting: IndexSetting, stored: Int, requested: Int)
    /// A setting outside the range it allows.
    case settingOutOfRange(IndexSetting, value: Int, allowed: ClosedRange<Int>)
    /// The query is empty or only white space.
    case emptyQuery
    /// A result count below 1.
    case invalidLimit(Int)
    /// A path to index or to search under does not exist.
    case pathNotFound(String)
    /// A file asked for that the index does not hold (with chunks) at exactly that path.
    case fileNotIndexed(String)
    /// An indexed file whose bytes are no longer the ones the index read (update the index).
    case fileChanged(String)
    /// An invalid option value, with the reason.
    case invalidOption(String)
    /// The store reported an error.
    case storage(String)
    /// The database holding the index (`location`, without its password) cannot be reached or
    /// refused the connection; a server answers 503 and tries again on the next request.
    case storeUnavailable(location: String, reason: String)
    /// The embedding model failed (loading, unsupported dimensions, ...).
    case model(EmbeddingGemmaError)

    public var description: String {
        switch self {
        case .indexNotFound(let path):
            return "no index at \(path): index some files into it first"
        case .indexCorrupt(let path, let reason):
            return "\(path) is not a usable search index (\(reason)); move it away or rebuild it"
        case .indexLocked(let path):
            return "\(path) is locked by another process that is writing to it; wait for it to finish and try again"
        case .modelMismatch(let path, let stored, let requested):
            return "the index \(path) was built with \(stored.modelDescription), not \(requested.modelDescription); "
                + "use that model, or rebuild the index to re-embed everything"
        case .recordedModelUnavailable(let path, let stored, let error):
            return "the index \(path) was built with \(stored.modelDescription), which does not load (\(error)); "
                + "give that model from where it is now, or rebuild the index with another"
        case .settingMismatch(let path, let setting, let stored, let requested):
            return "the index \(path) was built with a \(setting) of \(stored) \(setting.unit), not \(requested); rebuild it to change it"
        case .settingOutOfRange(let setting, let value, let allowed):
            return "the \(setting) must be between \(allowed.lowerBound) and \(allowed.upperBound) \(setting.unit) (got \(value))"
        case .emptyQuery:
            return "the query is empty: give some words to search for"
        case .invalidLimit(let limit):
            return "the number of results must be at least 1 (got \(limit))"
        case .pathNotFound(let path):
            return "\(path): no such file or folder"
        case .fileNotIndexed(let path):
            return "\(path) is not in the index"
        case .fileChanged(let path):
            return "\(path) changed since it was indexed; update the index to see it"
        case .invalidOption(let reason):
            return reason
        case .storage(let message):
            return "index storage error: \(message)"
        case .storeUnavailable(let location, let reason):
            return "the index database \(location) is unavailable: \(reason)"
        case .model(let error):
            return error.description
        }
    }
}
