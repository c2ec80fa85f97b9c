/// What went wrong talking to a chat server (``ChatServerGenerator``); ``AnswerError/chatServer(endpoint:_:)``
/// says which server.
public enum ChatServerFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// Nothing listens at the address (the connection was refused).
    case connectionRefused
    /// The connection failed for another reason (name resolution, timeout, TLS, ...), as the HTTP
    /// client describes it.
    case unreachable(String)
    /// The server answered an error status; `message` is the message of its error body (either
    /// API's shape), else the body itself, shortened.
    case status(code: Int, reason: String, message: String)
    /// The server reported an error in the middle of the stream.
    case errorInStream(String)
    /// A line of the stream is not JSON of the API's shape (its first 200 characters).
    case notJSON(String)
    /// The connection failed in the middle of the stream.
    case brokenStream(String)
    /// The stream ended without its end marker, after `receivedCharacters` characters of text.
    case incompleteStream(receivedCharacters: Int)

    public var description: String { description(endpoint: "the server") }

    /// The message, naming the server as `endpoint`.
    public func description(endpoint: String) -> String {
        switch self {
        case .connectionRefused:
            return "cannot reach \(endpoint): nothing is listening there (connection refused); start the server or check its URL"
        case .unreachable(let reason):
            return "cannot reach \(endpoint): \(reason)"
        case .status(let code, let reason, let message):
            return "\(endpoint) answered \(code) \(reason): \(message)"
        case .errorInStream(let message):
            return "the server reported an error mid-answer: \(message)"
        case .notJSON(let line):
            return "the server sent a line that is not JSON: \(line)"
        case .brokenStream(let reason):
            return "the stream from \(endpoint) broke off: \(reason)"
        case .incompleteStream(let count):
            return "the stream from \(endpoint) ended before the answer was complete (\(count) characters received)"
        }
    }
}
