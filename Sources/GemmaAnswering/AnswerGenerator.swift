import EmbeddingGemma

/// What writes a grounded answer: the local Gemma 3 generator (``LocalGenerator``) or a chat
/// server the user already runs (``ChatServerGenerator``).
public protocol AnswerGenerator: Sendable {
    /// Tokens the prompt and the answer share.
    var contextLength: Int { get }
    /// The tokenizer passages are measured with (Gemma 3's vocabulary).
    var tokenizer: GemmaTokenizer { get }
    /// The text the model reads for the message `body` (for measuring; a chat server applies
    /// its own template, which this estimates with Gemma's turn format).
    func frame(_ body: String) -> String
    /// Writes the answer to `body`, calling `onText` with each new piece of text.
    func write(_ body: String, options: GenerationOptions, onText: @escaping @Sendable (String) -> Void) async throws(AnswerError) -> AnswerGeneration
}

/// Counts and timings of one answer.
public struct AnswerGeneration: Sendable {
    /// The answer's text as generated.
    public var text: String
    /// Tokens of the prompt, when the generator says.
    public var promptTokens: Int?
    /// Tokens generated, when the generator says.
    public var generatedTokens: Int?
    /// Why it stopped: `end` (the model finished), `length` (the token limit), or the server's word.
    public var stopReason: String
    /// From sending the prompt to the last piece.
    public var duration: Duration
    /// Tokens cut from the front of a prompt too long for the context (local generator only).
    public var droppedPromptTokens: Int

    public init(text: String, promptTokens: Int?, generatedTokens: Int?, stopReason: String, duration: Duration, droppedPromptTokens: Int = 0) {
        self.text = text
        self.promptTokens = promptTokens
        self.generatedTokens = generatedTokens
        self.stopReason = stopReason
        self.duration = duration
        self.droppedPromptTokens = droppedPromptTokens
    }
}
