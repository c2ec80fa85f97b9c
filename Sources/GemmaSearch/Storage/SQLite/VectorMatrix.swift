import CEmbeddingGemmaKernels
import Foundation

/// Every chunk's 1-bit code (the signs of its vector) in one contiguous array, loaded once from
/// the index and kept for searches: the first stage of dense search picks the rows whose signs
/// agree best with the query (`Σ qᵢ · sign(dᵢ)`, the query kept at ``queryBits`` bits per
/// dimension), and the store scores those exactly with their float32 vectors. 768 dimensions take
/// 96 bytes a chunk in memory.
struct VectorMatrix: Sendable {
    /// Width of the vectors.
    let dimensions: Int
    /// 64-bit sign words per vector.
    let words: Int
    /// Chunk ids, in row order.
    private(set) var chunkIds: [Int64] = []
    /// Sign words, `words` per row.
    private(set) var signs: [UInt64] = []

    /// Bits per dimension the query keeps in the first stage (its bit planes).
    static let queryBits = 6
    /// Rows from which the scan runs on every core.
    static let parallelRows = 32_768
    /// Rows from which a coarse pass (the query's signs against the rows', one popcount per 64
    /// dimensions) first keeps ``coarseKeep(_:)`` rows for the finer score.
    static let coarseRows = 131_072

    /// Rows the coarse pass keeps for `wanted` candidates.
    static func coarseKeep(_ wanted: Int) -> Int { max(wanted * 40, 8_192) }

    init(dimensions: Int) {
        self.dimensions = dimensions
        words = (dimensions + 63) / 64
    }

    /// Number of vectors.
    var count: Int { chunkIds.count }

    /// Appends one chunk's sign words (``VectorCode/signWords(_:)``).
    mutating func append(chunkId: Int64, signs rowSigns: [UInt64]) {
        chunkIds.append(chunkId)
        signs.append(contentsOf: rowSigns)
    }

    /// Appends one chunk's sign words from their stored form (``VectorCode/signBytes``).
    mutating func appendSigns(chunkId: Int64, littleEndianBytes data: Data) {
        chunkIds.append(chunkId)
        data.withUnsafeBytes { raw in
            for w in 0..<words {
                signs.append(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: w * 8, as: UInt64.self)))
            }
        }
    }

    /// The `candidates` rows whose sign bits agree best with `query` (a unit vector of
    /// ``dimensions`` values), in no particular order; all eligible rows when there are no more.
    /// - Parameter allowed: when given, only rows whose entry is true are considered.
    func candidates(_ query: [Float], count wanted: Int, allowed: [Bool]? = nil) -> [Int] {
        guard count > 0, wanted > 0, query.count == dimensions else { return [] }
        let eligible = allowed.map { $0.reduce(0) { $0 + ($1 ? 1 : 0) } } ?? count
        if wanted >= eligible {
            return allowed.map { mask in mask.indices.filter { mask[$0] } } ?? Array(0..<count)
        }
        if count >= Self.coarseRows, Self.coarseKeep(wanted) < eligible {
            let kept = coarse(query, keep: Self.coarseKeep(wanted), allowed: allowed)
            let scores = signScores(query, rows: kept)
            var best = TopScores(capacity: wanted)
            for (position, row) in kept.enumerated() { best.offer(row, Float(scores[position])) }
            return best.rows
        }
        let scores = signScores(query)
        var best = TopScores(capacity: wanted)
        for row in 0..<count where allowed?[row] ?? true {
            best.offer(row, Float(scores[row]))
        }
        return best.rows
    }

    /// The `keep` allowed rows whose signs agree most with the query's (ties: the earlier rows),
    /// found with a histogram of the agreement counts, not a sort.
    func coarse(_ query: [Float], keep: Int, allowed: [Bool]?) -> [Int] {
        let agreement = scan(VectorCode.signWords(query), parts: max(1, ProcessInfo.processInfo.activeProcessorCount), zero: UInt16(0)) {
            eg_sign_agreement($0, $1, Int32(words), $2, $3)
        }
        let rows = count
        var histogram = [Int](repeating: 0, count: words * 64 + 1)
        for row in 0..<rows where allowed?[row] ?? true { histogram[Int(agreement[row])] += 1 }
        var threshold = histogram.count - 1, above = 0
        while threshold > 0, above + histogram[threshold] < keep {
            above += histogram[threshold]
            threshold -= 1
        }
        var atThreshold = keep - above
        var kept: [Int] = []
        kept.reserveCapacity(keep)
        for row in 0..<rows where allowed?[row] ?? true {
            let score = Int(agreement[row])
            if score > threshold {
                kept.append(row)
            } else if score == threshold, atThreshold > 0 {
                kept.append(row)
                atThreshold -= 1
            }
        }
        return kept
    }

    /// The finer first-stage scores of `rows` only (their signs gathered side by side).
    func signScores(_ query: [Float], rows: [Int]) -> [Int32] {
        var gathered: [UInt64] = []
        gathered.reserveCapacity(rows.count * words)
        for row in rows { gathered.append(contentsOf: signs[(row * words)..<((row + 1) * words)]) }
        let planes = Self.planes(query, words: words, bits: Self.queryBits)
        var scores = [Int32](repeating: 0, count: rows.count)
        gathered.withUnsafeBufferPointer { all in
            planes.withUnsafeBufferPointer { planes in
                scores.withUnsafeMutableBufferPointer { out in
                    guard let signBase = all.baseAddress, let planeBase = planes.baseAddress, let outBase = out.baseAddress else { return }
                    eg_sign_scores(signBase, rows.count, Int32(words), planeBase, Int32(Self.queryBits), outBase)
                }
            }
        }
        return scores
    }

    /// Every row's first-stage score (larger: closer), on all cores for a large index.
    func signScores(_ query: [Float]) -> [Int32] {
        let parts = count >= Self.parallelRows ? max(1, ProcessInfo.processInfo.activeProcessorCount) : 1
        return scan(Self.planes(query, words: words, bits: Self.queryBits), parts: parts, zero: Int32(0)) {
            eg_sign_scores($0, $1, Int32(words), $2, Int32(Self.queryBits), $3)
        }
    }

    /// One entry per row from `kernel`, run over `parts` contiguous ranges of rows at once:
    /// `kernel(rows' sign words, row count, query words, the rows' entries)`.
    private func scan<Score>(_ query: [UInt64], parts: Int, zero: Score,
                             _ kernel: @Sendable (UnsafePointer<UInt64>, Int, UnsafePointer<UInt64>, UnsafeMutablePointer<Score>) -> Void) -> [Score] {
        var out = [Score](repeating: zero, count: count)
        let rows = count, words = words
        signs.withUnsafeBufferPointer { all in
            query.withUnsafeBufferPointer { q in
                out.withUnsafeMutableBufferPointer { o in
                    guard let signBase = all.baseAddress, let queryBase = q.baseAddress, let outBase = o.baseAddress else { return }
                    let signAddress = UInt(bitPattern: signBase), queryAddress = UInt(bitPattern: queryBase), outAddress = UInt(bitPattern: outBase)
                    DispatchQueue.concurrentPerform(iterations: parts) { part in
                        let first = rows * part / parts, last = rows * (part + 1) / parts
                        guard last > first,
                              let signPointer = UnsafePointer<UInt64>(bitPattern: signAddress),
                              let queryPointer = UnsafePointer<UInt64>(bitPattern: queryAddress),
                              let outPointer = UnsafeMutablePointer<Score>(bitPattern: outAddress) else { return }
                        kernel(signPointer + first * words, last - first, queryPointer, outPointer + first)
                    }
                }
            }
        }
        return out
    }

    /// The query's values quantized to `bits` bits (0 … 2^bits − 1 over −max|q| … max|q|), as bit
    /// planes: `planes[b · words + w]` holds bit `b` of dimensions `64w …`.
    static func planes(_ query: [Float], words: Int, bits: Int) -> [UInt64] {
        var planes = [UInt64](repeating: 0, count: bits * words)
        let largest = query.reduce(Float(0)) { max($0, abs($1)) }
        guard largest > 0 else { return planes }
        let levels = Float((1 << bits) - 1)
        for (i, value) in query.enumerated() {
            let level = Int(((value / largest + 1) / 2 * levels).rounded())
            for b in 0..<bits where (level >> b) & 1 == 1 {
                planes[b * words + (i >> 6)] |= 1 << UInt64(i & 63)
            }
        }
        return planes
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
