/// OpenAI's non-streamed chat completion (`"object": "chat.completion"`): the whole message, why
/// it stopped, and the usage.
public struct OpenAIChatCompletion: Codable, Sendable, Equatable {
    /// `chatcmpl-…`.
    public var id: String
    /// `chat.completion`.
    public var object: String
    /// Unix time the completion started.
    public var created: Int
    /// The model that answered.
    public var model: String
    /// One choice (one completion per request).
    public var choices: [Choice]
    /// Token counts.
    public var usage: OpenAIChatUsage

    /// The `object` of a completion.
    public static let objectName = "chat.completion"

    public init(id: String, created: Int, model: String, choices: [Choice], usage: OpenAIChatUsage) {
        self.id = id
        object = Self.objectName
        self.created = created
        self.model = model
        self.choices = choices
        self.usage = usage
    }

    /// One completed message.
    public struct Choice: Codable, Sendable, Equatable {
        /// Which choice (always 0 here).
        public var index: Int
        /// The answer.
        public var message: Message
        /// Why generation stopped: `stop` or `length`. `logprobs` is written as `null` beside it.
        public var finishReason: String

        public init(index: Int = 0, message: Message, finishReason: String) {
            self.index = index
            self.message = message
            self.finishReason = finishReason
        }

        enum CodingKeys: String, CodingKey {
            case index, message, logprobs
            case finishReason = "finish_reason"
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            index = try container.decode(Int.self, forKey: .index)
            message = try container.decode(Message.self, forKey: .message)
            finishReason = try container.decode(String.self, forKey: .finishReason)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(index, forKey: .index)
            try container.encode(message, forKey: .message)
            try container.encodeNil(forKey: .logprobs)
            try container.encode(finishReason, forKey: .finishReason)
        }
    }

    /// A message: its role (`assistant`) and text.
    public struct Message: Codable, Sendable, Equatable {
        public var role: String
        public var content: String

        public init(role: String = "assistant", content: String) {
            self.role = role
            self.content = content
        }
    }
}
