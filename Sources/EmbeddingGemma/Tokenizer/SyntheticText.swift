#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Calibration text made from the model's own vocabulary, for quantizing without user data:
/// sequences of ordinary pieces drawn with a Zipf-like law over the id order (Gemma's ids follow
/// its merge order, so low ids are the frequent pieces of every script), decoded to text.
/// The result is not language, but it drives every layer's inputs through the same channels as
/// real text does, which is what an importance matrix records. Deterministic for a given seed.
enum SyntheticText {
    /// Offset of the Zipf-like law `p(rank) ∝ 1 / (rank + offset)`: flattens the head so the
    /// commonest pieces do not crowd out the rest.
    static let rankOffset = 200.0

    /// `count` texts of 20 to 250 pieces each.
    static func generate(tokenizer: GemmaTokenizer, count: Int, seed: UInt64 = 0x5EED) -> [String] {
        let pieces = tokenizer.ordinaryPieceIds()
        guard !pieces.isEmpty else { return [] }
        var random = SplitMix64(seed: seed)
        // Inverse of the law's cumulative distribution, ln((rank + offset) / offset), normalised.
        let span = log((Double(pieces.count) + rankOffset) / rankOffset)
        return (0..<count).map { _ in
            let length = 20 + Int(random.next() % 231)
            let ids = (0..<length).map { _ -> Int in
                let u = Double(random.next() >> 11) / Double(1 << 53)
                let rank = Int(rankOffset * (exp(u * span) - 1))
                return Int(pieces[min(max(rank, 0), pieces.count - 1)])
            }
            return tokenizer.decode(ids, skipSpecialTokens: true)
        }
    }
}
