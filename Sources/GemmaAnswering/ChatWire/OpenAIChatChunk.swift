/// One event of OpenAI's streamed chat completion (`"object": "chat.completion.chunk"`): the
/// first carries the assistant's role, the next ones a piece of text each, the last one the
/// finish reason, and with `stream_options.include_usage` one more with no choices and the usage.
///
/// ```json
/// {"id":"chatcmpl-1x","object":"chat.completion.chunk","created":1767225600,"model":"gemma3",
///  "choices":[{"index":0,"delta":{"content":"Blue"},"logprobs":null,"finish_reason":null}]}
/// ```
///
/// Decoding is lenient, as chunks come from any OpenAI-compatible server: missing identifiers
/// read as empty, a usage of another shape as none.
public struct OpenAIChatChunk: Codable, Sendable, Equatable {
    /// The completion's identifier, the same on every chunk (`chatcmpl-…`).
    public var id: String
    /// `chat.completion.chunk`.
    public var object: String
    /// Unix time the completion started, the same on every chunk.
    public var created: Int
    /// The model answering.
    public var model: String
    /// One choice (this server writes one completion per request); none on the usage chunk.
    public var choices: [Choice]
    /// Token counts, on the usage chunk only.
    public var usage: OpenAIChatUsage?

    /// The `object` of every chunk.
    public static let objectName = "chat.completion.chunk"

    public init(id: String, created: Int, model: String, choices: [Choice], usage: OpenAIChatUsage? = nil) {
        self.id = id
        object = Self.objectName
        self.created = created
        self.model = model
        self.choices = choices
        self.usage = usage
    }

    /// One choice's part of a chunk.
    public struct Choice: Codable, Sendable, Equatable {
        /// Which choice (always 0 here).
        public var index: Int
        /// What the chunk adds to the message.
        public var delta: Delta
        /// Why generation stopped (`stop`, `length`), on the last content chunk only; written as
        /// `null` before it. `logprobs` is written as `null` beside it (not supported).
        public var finishReason: String?

        public init(index: Int = 0, delta: Delta, finishReason: String? = nil) {
            self.index = index
            self.delta = delta
            self.finishReason = finishReason
        }

        enum CodingKeys: String, CodingKey {
            case index, delta, logprobs
            case finishReason = "finish_reason"
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            index = container.lenient(Int.self, forKey: .index) ?? 0
            delta = container.lenient(Delta.self, forKey: .delta) ?? Delta()
            finishReason = container.lenient(String.self, forKey: .finishReason)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(index, forKey: .index)
            try container.encode(delta, forKey: .delta)
            try container.encodeNil(forKey: .logprobs)
            try container.encode(finishReason, forKey: .finishReason)
        }
    }

    /// The change to the message: the role on the first chunk, then pieces of text; empty (`{}`)
    /// on the chunk with the finish reason.
    public struct Delta: Codable, Sendable, Equatable {
        /// `assistant`, on the first chunk.
        public var role: String?
        /// A piece of the answer.
        public var content: String?

        public init(role: String? = nil, content: String? = nil) {
            self.role = role
            self.content = content
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            role = container.lenient(String.self, forKey: .role)
            content = container.lenient(String.self, forKey: .content)
        }
    }

    enum CodingKeys: String, CodingKey {
        case id, object, created, model, choices, usage
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = container.lenient(String.self, forKey: .id) ?? ""
        object = container.lenient(String.self, forKey: .object) ?? Self.objectName
        created = container.lenient(Int.self, forKey: .created) ?? 0
        model = container.lenient(String.self, forKey: .model) ?? ""
        choices = container.lenient([Choice].self, forKey: .choices) ?? []
        usage = container.lenient(OpenAIChatUsage.self, forKey: .usage)
    }
}
