/// Every chunk's compressed vector in contiguous arrays, loaded once from the index and kept
/// for searches: sign words for the first stage, int8 codes and scales for the second.
struct VectorMatrix: Sendable {
    /// Width of the vectors.
    let dimensions: Int
    /// 64-bit sign words per vector.
    let words: Int
    /// Chunk ids, in row order.
    private(set) var chunkIds: [Int64] = []
    /// Sign words, `words` per row.
    private(set) var signs: [UInt64] = []
    /// Codes, `dimensions` per row.
    private(set) var codes: [Int8] = []
    /// Scales, one per row.
    private(set) var scales: [Float] = []

    init(dimensions: Int) {
        self.dimensions = dimensions
        words = (dimensions + 63) / 64
    }

    /// Number of vectors.
    var count: Int { chunkIds.count }

    /// Appends one chunk's vector.
    mutating func append(chunkId: Int64, code: VectorCode) {
        chunkIds.append(chunkId)
        signs.append(contentsOf: code.signs)
        codes.append(contentsOf: code.codes)
        scales.append(code.scale)
    }

    /// The approximate cosine of `query` (a unit vector of ``dimensions`` values) with row `row`.
    func score(_ query: UnsafeBufferPointer<Float>, row: Int) -> Float {
        codes.withUnsafeBufferPointer { all in
            let base = row * dimensions
            var sum: Float = 0
            for i in 0..<dimensions { sum += query[i] * Float(all[base + i]) }
            return sum * scales[row]
        }
    }

    /// The `limit` rows nearest to `query`: the `candidates` rows whose sign bits agree best
    /// with the query (`Σ qᵢ · sign(dᵢ)`: the query stays float32, only the documents are 1-bit,
    /// which ranks far closer to cosine than the Hamming distance of two sign codes), re-scored
    /// with the int8 codes, best first.
    /// - Parameter allowed: when given, only rows whose entry is true are considered.
    func nearest(_ query: [Float], limit: Int, candidates: Int, allowed: [Bool]? = nil) -> [(row: Int, score: Float)] {
        guard count > 0, limit > 0, query.count == dimensions else { return [] }
        let eligible = allowed.map { $0.reduce(0) { $0 + ($1 ? 1 : 0) } } ?? count
        let pool = min(eligible, max(candidates, limit))
        var chosen: [Int]
        if pool == eligible {
            chosen = allowed.map { mask in mask.indices.filter { mask[$0] } } ?? Array(0..<count)
        } else {
            let table = Self.signTable(query, words: words)
            var best = TopScores(capacity: pool)
            signs.withUnsafeBufferPointer { all in
                table.withUnsafeBufferPointer { table in
                    for row in 0..<count where allowed?[row] ?? true {
                        var sum: Float = 0
                        let base = row * words
                        for w in 0..<words {
                            let word = all[base + w]
                            let tableBase = w * 8 * 256
                            for k in 0..<8 {
                                sum += table[tableBase + k * 256 + Int((word >> UInt64(8 * k)) & 0xFF)]
                            }
                        }
                        best.offer(row, sum)
                    }
                }
            }
            chosen = best.rows
        }
        var scored = query.withUnsafeBufferPointer { q in chosen.map { (row: $0, score: score(q, row: $0)) } }
        scored.sort { $0.score != $1.score ? $0.score > $1.score : $0.row < $1.row }
        return Array(scored.prefix(limit))
    }

    /// For each byte of a sign code (8 dimensions), the sum of `±query` over its 256 values:
    /// `table[byte · 256 + value]`, so scoring a row takes one look-up per 8 dimensions.
    static func signTable(_ query: [Float], words: Int) -> [Float] {
        let bytes = words * 8
        var table = [Float](repeating: 0, count: bytes * 256)
        for byte in 0..<bytes {
            for value in 0..<256 {
                var sum: Float = 0
                for bit in 0..<8 {
                    let d = byte * 8 + bit
                    guard d < query.count else { break }
                    sum += (value >> bit) & 1 == 1 ? query[d] : -query[d]
                }
                table[byte * 256 + value] = sum
            }
        }
        return table
    }
}

/// The rows with the highest scores seen, kept in a min-heap of fixed capacity.
struct TopScores {
    private var heap: [(score: Float, row: Int)] = []
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = max(1, capacity)
        heap.reserveCapacity(self.capacity)
    }

    /// Keeps `row` if its score is among the best so far (ties: the earlier row stays).
    mutating func offer(_ row: Int, _ score: Float) {
        if heap.count < capacity {
            heap.append((score, row))
            siftUp(heap.count - 1)
        } else if score > heap[0].score {
            heap[0] = (score, row)
            siftDown(0)
        }
    }

    /// The kept rows, in no particular order.
    var rows: [Int] { heap.map(\.row) }

    /// The kept rows with their scores, in no particular order.
    var entries: [(score: Float, row: Int)] { heap }

    private mutating func siftUp(_ index: Int) {
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].score < heap[parent].score else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ index: Int) {
        var parent = index
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count, heap[left].score < heap[smallest].score { smallest = left }
            if right < heap.count, heap[right].score < heap[smallest].score { smallest = right }
            guard smallest != parent else { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
