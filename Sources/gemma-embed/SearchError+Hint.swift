import GemmaSearch

extension SearchError {
    /// The error as the CLI reports it.
    var cliError: CLIError { CLIError(hint) }

    /// The library's message in the CLI's words: which command or flag to use where one helps.
    var hint: String {
        switch self {
        case .indexNotFound(let path):
            return "no index at \(path): build one with `gemma-embed index PATH...` (or name another with --index)"
        case .indexCorrupt(let path, let reason):
            return "\(path) is not a usable search index (\(reason)); move it away or rebuild it with `gemma-embed index --rebuild PATH...`"
        case .modelMismatch(_, let stored, let requested):
            return "the index was built with \(stored.modelDescription), not \(requested.modelDescription); "
                + "use that model, or re-embed everything with --rebuild"
        case .recordedModelUnavailable(_, let stored, let error):
            return "the index was built with \(stored.modelDescription), which does not load (\(error)); "
                + "name where it is now with --model, or re-embed everything with another model with `gemma-embed index --rebuild`"
        case .settingMismatch(_, .chunkTokens, let stored, let requested):
            return "the index has chunks of \(stored) tokens; add --rebuild to re-chunk and re-embed everything with \(requested)"
        case .settingOutOfRange(.chunkTokens, let value, let allowed):
            return "--chunk-tokens must be between \(allowed.lowerBound) and \(allowed.upperBound) "
                + "(the model reads \(allowed.upperBound + IndexOptions.promptTokens) tokens, prompt included; got \(value))"
        case .settingOutOfRange(.maxFileBytes, _, _):
            return "--max-file-mb must be at least 1"
        case .model(let error):
            return error.hint
        default:
            return description
        }
    }
}
