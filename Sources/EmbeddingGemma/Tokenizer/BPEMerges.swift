/// The merge rules of a byte-pair-encoding model and the merge loop that applies them.
///
/// Semantics follow the reference tokenizer (Hugging Face `tokenizers`, BPE model with byte
/// fallback): a word starts as one symbol per Unicode scalar (or one per UTF-8 byte, as
/// `<0xXX>` tokens, for scalars missing from the vocabulary); then, repeatedly, the adjacent
/// pair with the lowest merge rank (leftmost on ties) is replaced by its merged token.
struct BPEMerges: Sendable {
    /// (left id, right id) → rank << 32 | merged id.
    private var rules: [UInt64: UInt64] = [:]
    /// The merged id of each rank.
    private var mergedIdByRank: [Int32] = []

    init(expectedCount: Int) {
        rules.reserveCapacity(expectedCount)
        mergedIdByRank.reserveCapacity(expectedCount)
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

    @inline(__always)
    private func rule(_ left: Int32, _ right: Int32) -> (rank: UInt32, merged: Int32)? {
        guard let value = rules[Self.key(left, right)] else { return nil }
        return (UInt32(truncatingIfNeeded: value >> 32), Int32(bitPattern: UInt32(truncatingIfNeeded: value)))
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
        // Min-heap of rank << 32 | position: lowest rank first, then leftmost position.
        var heap = MinHeap()
        heap.reserve(n)
        for i in 0..<(n - 1) {
            if let r = rule(ids[i], ids[i + 1]) {
                heap.push(UInt64(r.rank) << 32 | UInt64(i))
            }
        }
        while let top = heap.pop() {
            let pos = Int(top & 0xFFFF_FFFF)
            let rank = Int(top >> 32)
            guard alive[pos] else { continue }
            let nextPos = Int(next[pos])
            guard nextPos >= 0 else { continue }
            // The entry is stale unless the pair here still merges into the same token.
            guard let current = rule(ids[pos], ids[nextPos]), current.merged == mergedIdByRank[rank] else { continue }
            ids[pos] = current.merged
            alive[nextPos] = false
            let after = next[nextPos]
            next[pos] = after
            if after >= 0 { prev[Int(after)] = Int32(pos) }
            let before = prev[pos]
            if before >= 0, let r = rule(ids[Int(before)], ids[pos]) {
                heap.push(UInt64(r.rank) << 32 | UInt64(before))
            }
            if after >= 0, let r = rule(ids[pos], ids[Int(after)]) {
                heap.push(UInt64(r.rank) << 32 | UInt64(pos))
            }
        }
        var i = 0
        while i >= 0 {
            output.append(ids[i])
            i = Int(next[i])
        }
    }
}

/// A binary min-heap of 64-bit keys.
struct MinHeap {
    private var items: [UInt64] = []

    mutating func reserve(_ n: Int) { items.reserveCapacity(n) }

    mutating func push(_ value: UInt64) {
        items.append(value)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if items[parent] <= items[child] { break }
            items.swapAt(parent, child)
            child = parent
        }
    }

    mutating func pop() -> UInt64? {
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
            if items[parent] <= items[smallest] { break }
            items.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}
