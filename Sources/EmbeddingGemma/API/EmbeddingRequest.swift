/// One text to embed, with everything that decides its vector: the input (text, or token ids the
/// model's tokenizer already made), the prompt, the output width and what to do past the token limit.
///
/// ``EmbeddingModel/embed(_:)-(([EmbeddingRequest]))`` takes a caller's batch of requests and
/// returns one result per request; the model packs them into its own encoder passes
/// (``EmbeddingModel/passTokens``).
///
/// ```swift
/// let requests = [
///     EmbeddingRequest(text: "Which planet is red?", prompt: .named("query"), dimensions: 256),
///     EmbeddingRequest(text: "Mars, known for its reddish appearance, ...", prompt: .named("document")),
/// ]
/// for result in model.embed(requests) { print(try result.get().vector.count) }
/// ```
public struct EmbeddingRequest: Sendable, Hashable {
    /// What is embedded.
    public enum Input: Sendable, Hashable {
        /// A text, tokenized with the request's prompt when the batch runs.
        case text(String)
        /// Token ids from ``EmbeddingModel/tokenized(_:prompt:)`` (prompt and special tokens
        /// included, already cut to the model's limit): nothing is tokenized again.
        case tokens(TokenizedText)
    }

    /// The input.
    public var input: Input
    /// The prompt in front of a ``Input/text(_:)`` input (a ``Input/tokens(_:)`` input holds its own).
    public var prompt: Prompt
    /// Matryoshka width of the vector (truncated, then renormalised); nil for the full width.
    public var dimensions: Int?
    /// What to do with an input over the model's token limit.
    public var truncation: TruncationPolicy

    /// A text with a prompt.
    public init(text: String, prompt: Prompt = .none, dimensions: Int? = nil, truncation: TruncationPolicy = .truncate) {
        input = .text(text)
        self.prompt = prompt
        self.dimensions = dimensions
        self.truncation = truncation
    }

    /// Token ids made by ``EmbeddingModel/tokenized(_:prompt:)``.
    public init(tokens: TokenizedText, dimensions: Int? = nil, truncation: TruncationPolicy = .truncate) {
        input = .tokens(tokens)
        prompt = .none
        self.dimensions = dimensions
        self.truncation = truncation
    }
}

/// A text as the model reads it: `<bos>`, prompt and text, `<eos>`, cut to the model's limit
/// (``EmbeddingModel/maxSequenceLength``) keeping `<eos>` last, as the reference truncates.
/// Made only by ``EmbeddingModel/tokenized(_:prompt:)``, so its ids are in the model's vocabulary.
public struct TokenizedText: Sendable, Hashable {
    /// The token ids the encoder reads.
    public let ids: [Int32]
    /// Tokens before the cut (equal to `ids.count` unless truncated).
    public let originalCount: Int

    init(ids: [Int32], originalCount: Int) {
        self.ids = ids
        self.originalCount = originalCount
    }

    /// Tokens the encoder reads.
    public var count: Int { ids.count }
    /// Whether the text was cut to the model's limit.
    public var wasTruncated: Bool { originalCount > ids.count }
}
