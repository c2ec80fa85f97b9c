import EmbeddingGemma

/// How a router embeds, scores and calibrates.
public struct RouterOptions: Sendable, Hashable {
    /// Matryoshka width (768, 512, 256 or 128); nil for the model's full width.
    public var dimensions: Int?
    /// The prompt in front of examples and queries (the Classification prompt by default).
    public var prompt: Prompt
    /// How a query is scored against a route's examples.
    public var scoring: RouteScoring
    /// How the threshold is chosen when the routes file gives none.
    public var criterion: CalibrationCriterion
    /// Where example vectors are cached (nil: not cached); `~/.cache/embeddinggemma/routes` by default.
    public var cacheDirectory: String?
    /// Routes listed as alternatives in a match.
    public var alternatives: Int

    public init(dimensions: Int? = nil, prompt: Prompt = ClassifierOptions.classificationPrompt, scoring: RouteScoring = .centroid,
                criterion: CalibrationCriterion = .default, cacheDirectory: String? = RouterOptions.defaultCacheDirectory, alternatives: Int = 3) {
        self.dimensions = dimensions
        self.prompt = prompt
        self.scoring = scoring
        self.criterion = criterion
        self.cacheDirectory = cacheDirectory
        self.alternatives = alternatives
    }

    /// `~/.cache/embeddinggemma/routes` (under `$XDG_CACHE_HOME` when set).
    public static var defaultCacheDirectory: String { RouteCache.defaultDirectory }
}
