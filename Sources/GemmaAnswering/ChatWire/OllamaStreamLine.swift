/// One line of Ollama's streamed `/api/chat` or `/api/generate` answer, and its whole answer
/// with `"stream": false` (the last line's shape, holding all the text).
///
/// Each line carries a piece of text, in `message` for `/api/chat` and in `response` for
/// `/api/generate`; the last has `"done": true`, why it stopped and the counts and durations.
///
/// ```json
/// {"model":"gemma3","created_at":"2026-01-01T00:00:00.000Z","message":{"role":"assistant","content":"Blue"},"done":false}
/// ```
///
/// Decoding is lenient, as lines come from any Ollama-compatible server: missing fields read as
/// empty, false or nil.
public struct OllamaStreamLine: Codable, Sendable, Equatable {
    /// The model answering.
    public var model: String
    /// When the line was written (`2026-12-02T07:04:03.123456Z`).
    public var createdAt: String
    /// `/api/chat`: the piece of the assistant's message.
    public var message: Message?
    /// `/api/generate`: the piece of the completion.
    public var response: String?
    /// Whether this is the last line.
    public var done: Bool
    /// On the last line: `stop`, `length`, or `load` (an empty prompt only loads the model).
    public var doneReason: String?
    /// On the last line, in nanoseconds: the whole request.
    public var totalDuration: Int?
    /// Loading the model (0: it stays loaded).
    public var loadDuration: Int?
    /// Tokens of the prompt.
    public var promptEvalCount: Int?
    /// Reading the prompt.
    public var promptEvalDuration: Int?
    /// Tokens generated.
    public var evalCount: Int?
    /// Generating them.
    public var evalDuration: Int?

    public init(model: String, createdAt: String, message: Message? = nil, response: String? = nil, done: Bool, doneReason: String? = nil,
                totalDuration: Int? = nil, loadDuration: Int? = nil, promptEvalCount: Int? = nil, promptEvalDuration: Int? = nil,
                evalCount: Int? = nil, evalDuration: Int? = nil) {
        self.model = model
        self.createdAt = createdAt
        self.message = message
        self.response = response
        self.done = done
        self.doneReason = doneReason
        self.totalDuration = totalDuration
        self.loadDuration = loadDuration
        self.promptEvalCount = promptEvalCount
        self.promptEvalDuration = promptEvalDuration
        self.evalCount = evalCount
        self.evalDuration = evalDuration
    }

    /// A piece of a chat message: its role (`assistant`) and text.
    public struct Message: Codable, Sendable, Equatable {
        public var role: String
        public var content: String

        public init(role: String = "assistant", content: String) {
            self.role = role
            self.content = content
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            role = container.lenient(String.self, forKey: .role) ?? "assistant"
            content = container.lenient(String.self, forKey: .content) ?? ""
        }
    }

    enum CodingKeys: String, CodingKey {
        case model, message, response, done
        case createdAt = "created_at"
        case doneReason = "done_reason"
        case totalDuration = "total_duration"
        case loadDuration = "load_duration"
        case promptEvalCount = "prompt_eval_count"
        case promptEvalDuration = "prompt_eval_duration"
        case evalCount = "eval_count"
        case evalDuration = "eval_duration"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = container.lenient(String.self, forKey: .model) ?? ""
        createdAt = container.lenient(String.self, forKey: .createdAt) ?? ""
        message = container.lenient(Message.self, forKey: .message)
        response = container.lenient(String.self, forKey: .response)
        done = container.lenient(Bool.self, forKey: .done) ?? false
        doneReason = container.lenient(String.self, forKey: .doneReason)
        totalDuration = container.lenient(Int.self, forKey: .totalDuration)
        loadDuration = container.lenient(Int.self, forKey: .loadDuration)
        promptEvalCount = container.lenient(Int.self, forKey: .promptEvalCount)
        promptEvalDuration = container.lenient(Int.self, forKey: .promptEvalDuration)
        evalCount = container.lenient(Int.self, forKey: .evalCount)
        evalDuration = container.lenient(Int.self, forKey: .evalDuration)
    }
}
