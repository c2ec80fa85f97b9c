/// The merge rules of a byte-pair-encoding model and the merge loop that applies them.
///
/// Semantics follow the reference tokenizer (Hugging Face `tokenizers`, BPE model with byte
/// fallback): a word starts as one symbol per Unicode scalar (or one per UTF-8 byte, as
/// `<0xXX>` tokens, for scalars missing from the vocabulary); then, repeatedly, the adjacent
/// pair with the lowest merge rank (leftmost on ties) is replaced by its merged token.
///
/// The rules come either from an explicit ranked list (`tokenizer.json`) or, for SentencePiece
/// vocabularies (GGUF files), from the pieces' scores: a pair merges if its concatenation is a
/// mergeable piece, ranked as the reference converts such models (score, then longer left part,
/// then longer right part, then piece id). The second form needs no table: about 30 MB less.
struct BPEMerges: Sendable {
    /// (left id, right id) → rank << 32 | merged id.
    private var rules: [UInt64: UInt64] = [:]
    /// The merged id of each rank.
    private var mergedIdByRank: [Int32] = []
    /// Score-based rules, when built from a SentencePiece vocabulary.
    private var scored: ScoredRules? = nil

    /// What score-based rules need per piece.
    private struct ScoredRules: Sendable {
        let vocabulary: Vocabulary
        /// Dense rank of the piece's score (0 = highest), or `UInt32.max` if the piece is not a merge result.
        let scoreRank: [UInt32]
        /// Length of each piece in Unicode scalars (capped at 255).
        let scalarLength: [UInt8]
    }

    init(expectedCount: Int) {
        rules.reserveCapacity(expectedCount)
        mergedIdByRank.reserveCapacity(expectedCount)
    }

    /// Score-based rules over `vocabulary`: piece `i` is a merge result if `mergeable[i]`.
    init(vocabulary: Vocabulary, scores: [Float], mergeable: [Bool]) {
        // Dense ranks of the scores, highest first (equal scores share a rank).
        var order = Array(Int32(0)..<Int32(scores.count))
        order.sort { scores[Int($0)] > scores[Int($1)] }
        var scoreRank = [UInt32](repeating: .max, count: scores.count)
        var rank: UInt32 = 0
        for (i, id) in order.enumerated() {
            if i > 0, scores[Int(id)] != scores[Int(order[i - 1])] { rank = min(rank + 1, (1 << 20) - 1) }
            if mergeable[Int(id)] { scoreRank[Int(id)] = rank }
        }
        var lengths = [UInt8](repeating: 0, count: scores.count)
        for id in 0..<scores.count {
            if let piece = vocabulary.piece(id) {
                var n = 0
                for b in piece where b & 0xC0 != 0x80 { n += 1 }
                lengths[id] = UInt8(min(n, 255))
            }
        }
        scored = ScoredRules(vocabulary: vocabulary, scoreRank: scoreRank, scalarLength: lengths)
    }

    /// Appends a rule with the next rank. A pair already present keeps its earlier (lower) rank.
    mutating func append(left: Int32, right: Int32, merged: Int32) {
        let rank = UInt64(mergedIdByRank.count)
        mergedIdByRank.append(merged)
        let key = Self.key(left, right)
        if rules[key] == nil {
            rules[key] = rank << 32 | UInt64(UInt32(bitPattern: merged))
        }
    }

    @inline(__always)
    private static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    /// The rule for the pair: its priority (lower merges first; unique per pair) and merged id.
    @inline(__always)
    private func rule(_ left: Int32, _ right: Int32) -> (key: UInt64, merged: Int32)? {
        if let scored {
            guard let merged = scored.vocabulary.id(joining: left, right) else { return nil }
            let rank = scored.scoreRank[Int(merged)]
            guard rank != .max else { return nil }
            // score rank (20 bits), longer left first, longer right first, then piece id (28 bits)
            let leftInverse = UInt64(255 - scored.scalarLength[Int(left)])
            let rightInverse = UInt64(255 - scored.scalarLength[Int(right)])
            return (UInt64(rank) << 44 | leftInverse << 36 | rightInverse << 28 | UInt64(UInt32(merged) & 0x0FFF_FFFF), merged)
        }
        guard let value = rules[Self.key(left, right)] else { return nil }
        return (value >> 32, Int32(bitPattern: UInt32(truncatingIfNeeded: value)))
    }

    /// Merges `symbols` (initial token ids) in place and appends the resulting ids to `output`.
    func merge(_ symbols: [Int32], into output: inout [Int32]) {
        let n = symbols.count
        if n == 0 { return }
        if n == 1 {
            output.append(symbols[0])
            return
        }
        var ids = symbols
        var prev = [Int32](unsafeUninitializedCapacity: n) { buffer, count in
            for i in 0..<n { buffer[i] = Int32(i - 1) }
            count = n
        }
        var next = [Int32](unsafeUninitializedCapacity: n) { buffer, count in
            for i in 0..<n { buffer[i] = i + 1 < n ? Int32(i + 1) : -1 }
            count = n
        }
        var alive = [Bool](repeating: true, count: n)
        // Min-heap of (rule key, position): highest priority first, then leftmost position.
        var heap = MinHeap()
        heap.reserve(n)
        for i in 0..<(n - 1) {
            if let r = rule(ids[i], ids[i + 1]) {
                heap.push(.init(key: r.key, position: UInt32(i)))
            }
        }
        while let top = heap.pop() {
            let pos = Int(top.position)
            guard alive[pos] else { continue }
            let nextPos = Int(next[pos])
            guard nextPos >= 0 else { continue }
            // The entry is stale unless the pair here is still the same pair (keys are unique per pair).
            guard let current = rule(ids[pos], ids[nextPos]), current.key == top.key else { continue }
            ids[pos] = current.merged
            alive[nextPos] = false
            let after = next[nextPos]
            next[pos] = after
            if after >= 0 { prev[Int(after)] = Int32(pos) }
            let before = prev[pos]
            if before >= 0, let r = rule(ids[Int(before)], ids[pos]) {
                heap.push(.init(key: r.key, position: UInt32(before)))
            }
            if after >= 0, let r = rule(ids[pos], ids[Int(after)]) {
                heap.push(.init(key: r.key, position: UInt32(pos)))
            }
        }
        var i = 0
        while i >= 0 {
            output.append(ids[i])
            i = Int(next[i])
        }
    }
}

/// A binary min-heap of (key, position) entries, ordered by key then position.
struct MinHeap {
    struct Entry {
        var key: UInt64
        var position: UInt32

        @inline(__always)
        static func < (a: Entry, b: Entry) -> Bool {
            a.key != b.key ? a.key < b.key : a.position < b.position
        }
    }

    private var items: [Entry] = []

    mutating func reserve(_ n: Int) { items.reserveCapacity(n) }

    mutating func push(_ value: Entry) {
        items.append(value)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if !(items[child] < items[parent]) { break }
            items.swapAt(parent, child)
            child = parent
        }
    }

    mutating func pop() -> Entry? {
        guard let last = items.popLast() else { return nil }
        guard !items.isEmpty else { return last }
        let top = items[0]
        items[0] = last
        var parent = 0
        let n = items.count
        while true {
            let left = 2 * parent + 1
            if left >= n { break }
            var smallest = left
            if left + 1 < n, items[left + 1] < items[left] { smallest = left + 1 }
            if !(items[smallest] < items[parent]) { break }
            items.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}
