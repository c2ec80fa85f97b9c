/// Batches in which no text appears twice, as sentence-transformers' `NoDuplicatesBatchSampler`
/// makes them: the examples in a seeded random order; each batch takes the next examples none of
/// whose texts is already in it, and those it skips wait for a later batch. (With in-batch
/// negatives, a duplicate text would be its own "negative".) The order comes from the project's
/// own seeded generator, so a seed repeats a run here, not PyTorch's order.
public struct NoDuplicatesBatches: Sendable, Hashable {
    /// Example indices per batch.
    public let batches: [[Int]]

    /// - Parameters:
    ///   - texts: each example's texts (anchor, positive, negative...).
    ///   - batchSize: examples per batch; the last batch may be smaller.
    ///   - seed: the order's seed (an epoch's seed: the same seed, the same batches).
    public init(texts: [[String]], batchSize: Int, seed: UInt64) {
        precondition(batchSize >= 1, "batch size must be at least 1")
        var remaining = Self.shuffled(texts.indices.map { $0 }, seed: seed)
        var batches: [[Int]] = []
        while !remaining.isEmpty {
            var batch: [Int] = []
            var seen = Set<String>()
            var left: [Int] = []
            for index in remaining {
                if batch.count < batchSize, texts[index].allSatisfy({ !seen.contains($0) }) {
                    batch.append(index)
                    seen.formUnion(texts[index])
                } else {
                    left.append(index)
                }
            }
            batches.append(batch)
            remaining = left
        }
        self.batches = batches
    }

    /// Fisher–Yates with SplitMix64.
    static func shuffled(_ values: [Int], seed: UInt64) -> [Int] {
        var values = values
        var random = SplitMix64(seed: seed)
        func next() -> UInt64 { random.next() }
        guard values.count > 1 else { return values }
        for i in stride(from: values.count - 1, to: 0, by: -1) {
            let j = Int(next() % UInt64(i + 1))
            values.swapAt(i, j)
        }
        return values
    }
}
