import GemmaAnswering
import GemmaSearch

/// The index a server searches and answers from (`/api/search`, `/api/ask`, `/api/index`,
/// `/api/file`), and the folders it keeps it current with.
public struct IndexConfiguration: Sendable {
    /// The index, or why there is none (the search routes answer 503 with the reason; the
    /// embedding routes keep working).
    public enum Source: Sendable {
        case index(SemanticIndex)
        case unavailable(reason: String)
    }

    public var source: Source
    /// Folders (or files) the server keeps indexed while it runs (none: the index is only read).
    public var watch: [String]
    /// Timing of the watching.
    public var watcher: IndexWatcher.Configuration
    /// What writes `/api/ask`'s answers when it is not the server's own generator (a chat server).
    public var answerGenerator: (any AnswerGenerator)?

    public init(source: Source, watch: [String] = [], watcher: IndexWatcher.Configuration = .init(),
                answerGenerator: (any AnswerGenerator)? = nil) {
        self.source = source
        self.watch = watch
        self.watcher = watcher
        self.answerGenerator = answerGenerator
    }
}
