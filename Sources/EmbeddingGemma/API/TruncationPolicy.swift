/// What to do with a text longer than the model's limit (2048 tokens, `<bos>` and `<eos>` included).
public enum TruncationPolicy: Sendable, Hashable {
    /// Keep the first tokens and end with `<eos>`, as the reference does.
    case truncate
    /// Throw ``EmbeddingGemmaError/inputTooLong(index:tokens:limit:)``.
    case error
}
