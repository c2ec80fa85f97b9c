#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How a ``TextGenerator`` picks tokens and when it stops.
public struct GenerationOptions: Sendable {
    /// Most tokens to generate.
    public var maxTokens: Int
    /// 0 for greedy decoding (always the most likely token); above 0, sampling at this temperature.
    public var temperature: Double
    /// Sample among the `topK` most likely tokens only (0: no limit).
    public var topK: Int
    /// Sample among the most likely tokens whose probabilities add up to `topP` (1: no limit).
    public var topP: Double
    /// Seed of the sampler, for repeatable samples.
    public var seed: UInt64
    /// Token ids that end the generation (besides `<eos>` and `<end_of_turn>`).
    public var stopTokens: Set<Int>
    /// Texts that end the generation where they appear; the text returned and streamed stops
    /// before them (text that could begin one is held back until that is decided).
    public var stopSequences: [String]

    public init(maxTokens: Int = 256, temperature: Double = 0, topK: Int = 64, topP: Double = 0.95, seed: UInt64 = 0, stopTokens: Set<Int> = [],
                stopSequences: [String] = []) {
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.seed = seed
        self.stopTokens = stopTokens
        self.stopSequences = stopSequences
    }
}

/// Picks the next token from logits: the arg-max for greedy decoding (the lowest id among equal
/// maxima, as `torch.argmax`), else a draw after temperature, top-k and top-p.
struct TokenSampler {
    private let options: GenerationOptions
    private var state: UInt64

    init(options: GenerationOptions) {
        self.options = options
        state = options.seed &+ 0x9E37_79B9_7F4A_7C15
    }

    mutating func next(_ logits: [Float]) -> Int {
        guard options.temperature > 0 else { return Self.argmax(logits) }
        let inverse = Float(1 / options.temperature)
        let limit = options.topK > 0 ? min(options.topK, logits.count) : logits.count
        let order = Self.best(limit, of: logits)
        let maximum = logits[order[0]]
        var weights = order.map { Double(exp((logits[$0] - maximum) * inverse)) }
        let total = weights.reduce(0, +)
        var kept = 0, cumulative = 0.0
        for (i, w) in weights.enumerated() {
            cumulative += w / total
            kept = i + 1
            if cumulative >= options.topP { break }
        }
        weights = Array(weights.prefix(kept))
        let draw = uniform() * weights.reduce(0, +)
        var running = 0.0
        for (i, w) in weights.enumerated() {
            running += w
            if draw < running { return order[i] }
        }
        return order[kept - 1]
    }

    /// The ids of the `count` largest logits, largest first (lower id first among equal logits).
    /// With a top-k limit, one pass keeps a sorted list of `count` instead of sorting the vocabulary.
    static func best(_ count: Int, of logits: [Float]) -> [Int] {
        func before(_ a: Int, _ b: Int) -> Bool { logits[a] > logits[b] || (logits[a] == logits[b] && a < b) }
        guard count < logits.count / 8 else { return Array(logits.indices.sorted(by: before).prefix(count)) }
        var kept: [Int] = []
        kept.reserveCapacity(count + 1)
        for id in logits.indices {
            if kept.count == count, let last = kept.last, !before(id, last) { continue }
            var slot = kept.count
            while slot > 0, before(id, kept[slot - 1]) { slot -= 1 }
            kept.insert(id, at: slot)
            if kept.count > count { kept.removeLast() }
        }
        return kept
    }

    static func argmax(_ logits: [Float]) -> Int {
        var best = 0
        for i in logits.indices where logits[i] > logits[best] { best = i }
        return best
    }

    /// A uniform double in [0, 1) from SplitMix64.
    private mutating func uniform() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Double(z >> 11) / Double(1 << 53)
    }
}
