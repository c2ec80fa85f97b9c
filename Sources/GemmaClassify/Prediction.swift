/// A label with its probability.
public struct LabelScore: Sendable, Hashable, Codable {
    /// The label.
    public var label: String
    /// Its probability, in 0...1.
    public var score: Double

    public init(label: String, score: Double) {
        self.label = label
        self.score = score
    }
}

/// What a classifier says about one text.
public struct Prediction: Sendable, Hashable {
    /// Every label with its probability, most probable first (ties in label order).
    public var ranked: [LabelScore]

    public init(ranked: [LabelScore]) {
        self.ranked = ranked
    }

    /// The most probable label.
    public var label: String { ranked.first?.label ?? "" }
    /// Its probability.
    public var score: Double { ranked.first?.score ?? 0 }
    /// Every label's probability.
    public var scores: [String: Double] { Dictionary(uniqueKeysWithValues: ranked.map { ($0.label, $0.score) }) }
    /// The `n` most probable labels.
    public func top(_ n: Int) -> [LabelScore] { Array(ranked.prefix(max(0, n))) }
}
