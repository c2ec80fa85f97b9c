/// One embedding with what it took to make it.
public struct Embedding: Sendable, Hashable {
    /// The vector, L2-normalised, of the requested dimensions.
    public var vector: [Float]
    /// Tokens the model saw, `<bos>`, prompt and `<eos>` included.
    public var tokenCount: Int
    /// Tokens the text had before truncation (equal to `tokenCount` unless truncated).
    public var originalTokenCount: Int

    /// Whether the input was cut to the model's limit.
    public var wasTruncated: Bool { originalTokenCount > tokenCount }
}
