import EmbeddingGemma

/// How a classifier is trained: the embedding width and prompt, and the head's regularisation.
public struct ClassifierOptions: Sendable, Hashable {
    /// The prompt EmbeddingGemma's model card gives for classification (`task: classification | query: `).
    public static let classificationPrompt = Prompt.named("Classification")

    /// Matryoshka width of the vectors (768, 512, 256 or 128); nil for the model's full width.
    public var dimensions: Int?
    /// The prompt in front of every text, in training and in prediction.
    public var prompt: Prompt
    /// Inverse L2 regularisation strength (scikit-learn's `C`, 1 by default).
    public var c: Double
    /// The solver's stopping rule: the largest gradient component allowed at the solution.
    public var gradientTolerance: Double
    /// Texts per call of the model while embedding the examples (progress is reported after each).
    public var batchSize: Int

    public init(dimensions: Int? = nil, prompt: Prompt = ClassifierOptions.classificationPrompt, c: Double = 1,
                gradientTolerance: Double = 1e-8, batchSize: Int = 64) {
        self.dimensions = dimensions
        self.prompt = prompt
        self.c = c
        self.gradientTolerance = gradientTolerance
        self.batchSize = batchSize
    }
}

/// Progress of a long embedding run: texts done out of the total.
public struct EmbeddingProgress: Sendable, Hashable {
    /// Texts embedded so far.
    public var done: Int
    /// Texts to embed.
    public var total: Int
    /// Seconds since the run started.
    public var elapsed: Double
}
