/// How ``Trainer`` fine-tunes: sentence-transformers' defaults for `MultipleNegativesRankingLoss`
/// with its trainer (batch 32, learning rate 2e-5, 10 % linear warm-up then linear decay, AdamW with
/// weight decay 0.01 on weights, gradient clipping at norm 1).
public struct TrainingOptions: Sendable, Hashable {
    /// Passes over the training examples.
    public var epochs: Int
    /// Examples per step (each contributes its anchor, positive and negative).
    public var batchSize: Int
    /// Peak learning rate.
    public var learningRate: Float
    /// Fraction of the steps spent warming up linearly from 0 (rounded up to whole steps).
    public var warmupRatio: Double
    /// Matryoshka widths the loss is summed over (`MatryoshkaLoss`), nil for the full width only.
    public var matryoshkaDimensions: [Int]?
    /// Seed of the batch order and of drawn positives: the same seed, the same run.
    public var seed: UInt64
    /// Gradients are scaled down to this global L2 norm when above it.
    public var maxGradientNorm: Float
    /// AdamW's decoupled weight decay (weights only, not norms or biases).
    public var weightDecay: Float
    /// The ranking loss's cosine multiplier.
    public var scale: Double
    /// Prompt of the anchor texts (a name of the model's prompts, a literal, or none).
    public var anchorPrompt: Prompt
    /// Prompt of the positive texts.
    public var positivePrompt: Prompt
    /// Prompt of the hard negatives (the positives' by default).
    public var negativePrompt: Prompt
    /// Bytes of layer activations the trainer may keep for the backward pass; above it each
    /// layer's forward is re-run during the backward pass (slower, far less memory).
    public var activationBudget: Int

    /// Options with sentence-transformers' defaults unless given.
    public init(epochs: Int = 1, batchSize: Int = 32, learningRate: Float = 2e-5, warmupRatio: Double = 0.1,
                matryoshkaDimensions: [Int]? = nil, seed: UInt64 = 0, maxGradientNorm: Float = 1, weightDecay: Float = 0.01,
                scale: Double = 20, anchorPrompt: Prompt = .named("query"), positivePrompt: Prompt = .named("document"),
                negativePrompt: Prompt? = nil, activationBudget: Int = 4_000_000_000) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.warmupRatio = warmupRatio
        self.matryoshkaDimensions = matryoshkaDimensions
        self.seed = seed
        self.maxGradientNorm = maxGradientNorm
        self.weightDecay = weightDecay
        self.scale = scale
        self.anchorPrompt = anchorPrompt
        self.positivePrompt = positivePrompt
        self.negativePrompt = negativePrompt ?? positivePrompt
        self.activationBudget = activationBudget
    }

    /// EmbeddingGemma's Matryoshka widths, for ``matryoshkaDimensions``.
    public static let matryoshkaWidths = [768, 512, 256, 128]
}

/// Where a run is, reported after every step.
public struct TrainingProgress: Sendable {
    /// Steps done (the step just taken, 1-based).
    public var step: Int
    /// Steps of the whole run.
    public var totalSteps: Int
    /// The current epoch (1-based).
    public var epoch: Int
    /// The step's loss.
    public var loss: Double
    /// Training tokens (every text of the batch, prompt and special tokens included) per second
    /// over the steps run by this process.
    public var tokensPerSecond: Double
    /// Seconds of training since this process started.
    public var elapsedSeconds: Double
    /// The estimate of the seconds left, at this process's pace.
    public var remainingSeconds: Double
}

/// What a finished run did.
public struct TrainingReport: Sendable {
    /// Steps taken (a resumed run's included).
    public var steps: Int
    /// Epochs of the run.
    public var epochs: Int
    /// Mean loss of each epoch's steps (of the steps this process ran, for a resumed epoch).
    public var epochLosses: [Double]
    /// Tokens trained on by this process, its seconds (training only: not evaluations between
    /// epochs or checkpoints), and their ratio.
    public var tokens: Int
    /// Seconds of training (see ``tokens``).
    public var seconds: Double
    /// ``tokens`` per ``seconds``.
    public var tokensPerSecond: Double
    /// Seconds in the forward passes.
    public var forwardSeconds: Double
    /// Seconds in the backward passes (with the gradient norm).
    public var backwardSeconds: Double
    /// Seconds in the optimiser's steps.
    public var optimizerSeconds: Double
}
