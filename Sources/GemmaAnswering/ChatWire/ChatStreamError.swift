/// An error reported after a stream has started (its status, 200, is already sent): OpenAI's
/// event `{"error": {"message", "type", "param", "code"}}` or Ollama's line `{"error": "..."}`.
///
/// Either shape is read in both formats; which is written depends on ``type``.
public struct ChatStreamError: Codable, Sendable, Equatable {
    /// What went wrong.
    public var message: String
    /// OpenAI's error `type` (`server_error`), written with `param` and `code` as `null`; nil
    /// writes Ollama's shape, the message alone.
    public var type: String?

    public init(message: String, type: String? = nil) {
        self.message = message
        self.type = type
    }

    enum CodingKeys: String, CodingKey {
        case error
    }

    enum DetailKeys: String, CodingKey {
        case message, type, param, code
    }

    /// Reads `{"error": "..."}` or `{"error": {"message": ...}}`; an error object without a
    /// message reads as its JSON.
    /// - Throws: `DecodingError.keyNotFound` when there is no `error`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let message = try? container.decode(String.self, forKey: .error) {
            self.init(message: message)
            return
        }
        let detail = try container.nestedContainer(keyedBy: DetailKeys.self, forKey: .error)
        let message = detail.lenient(String.self, forKey: .message)
        self.init(message: message ?? "(an error without a message)", type: detail.lenient(String.self, forKey: .type))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        guard let type else {
            try container.encode(message, forKey: .error)
            return
        }
        var detail = container.nestedContainer(keyedBy: DetailKeys.self, forKey: .error)
        try detail.encode(message, forKey: .message)
        try detail.encode(type, forKey: .type)
        try detail.encodeNil(forKey: .param)
        try detail.encodeNil(forKey: .code)
    }
}
