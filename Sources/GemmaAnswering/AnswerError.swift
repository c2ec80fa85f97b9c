import EmbeddingGemma
import GemmaSearch

/// Errors of answering a question, each with the values a caller needs to act on it.
///
/// Messages say what went wrong in the library's own terms; an application adds its own hints
/// (which option or command fixes it).
public enum AnswerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Retrieving the passages failed.
    case search(SearchError)
    /// The index at `indexPath` holds no passages to answer from (it is empty, or nothing lies
    /// under the path the search was limited to).
    case noSources(indexPath: String)
    /// The local generator failed (loading, a prompt it cannot read, ...).
    case generator(EmbeddingGemmaError)
    /// The chat server's URL is not an `http://` or `https://` URL with a host.
    case invalidServerURL(String)
    /// The chat server's URL does not say which API the server speaks: its path ends in neither
    /// `/v1` (OpenAI-compatible) nor `/api` (Ollama).
    case unknownServerAPI(url: String)
    /// The chat server at `endpoint` could not be reached, answered an error, or cut its stream.
    case chatServer(endpoint: String, ChatServerFailure)
    /// The generator cannot take the question now (busy with others, or stopping); try again later.
    case generatorUnavailable(String)

    public var description: String {
        switch self {
        case .search(let error):
            return error.description
        case .noSources(let path):
            return "the index \(path) holds no passages to answer from: index some files first"
        case .generator(let error):
            return "generator: \(error)"
        case .invalidServerURL(let url):
            return "\(url) is not an http:// or https:// URL of a chat server"
        case .unknownServerAPI(let url):
            return "\(url): say which API the server speaks with its path: …/v1 (OpenAI-compatible) or …/api (Ollama)"
        case .chatServer(let endpoint, let failure):
            return "generator: " + failure.description(endpoint: endpoint)
        case .generatorUnavailable(let reason):
            return "generator: \(reason)"
        }
    }
}
