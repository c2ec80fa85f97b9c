/// The keys and values of every layer for the tokens a generator has read so far:
/// `[rows × kvHeads·headDim]` float32 per layer for keys and for values.
///
/// A global-attention layer keeps every position of the context. A sliding-window layer keeps
/// only what its next tokens can still see: when its rows run out, the last `window − 1`
/// positions move to the front and the older ones are dropped, so its memory is the window plus
/// one forward pass instead of the whole context.
///
/// One cache belongs to one generation at a time (it is not shared between threads). Rows are
/// written before they are read, so memory is resident only for the rows used so far.
final class KVCache {
    /// Floats per token row (`kvHeads · headDim`).
    let width: Int
    /// Tokens read so far (the position of the next token).
    var count = 0
    /// Rows each layer holds.
    let capacities: [Int]
    /// The position held in each layer's first row.
    private(set) var firstPositions: [Int]
    private let offsets: [Int]
    private let storage: UnsafeMutablePointer<Float>

    /// - Parameter capacities: rows per layer (the context for global layers; at least the window
    ///   plus the largest forward pass for sliding layers).
    init(capacities: [Int], width: Int) {
        self.capacities = capacities
        self.width = width
        firstPositions = Array(repeating: 0, count: capacities.count)
        var offsets: [Int] = []
        var total = 0
        for rows in capacities {
            offsets.append(total)
            total += 2 * rows * width
        }
        self.offsets = offsets
        // Not zero-filled: untouched pages cost no memory.
        storage = UnsafeMutablePointer<Float>.allocate(capacity: max(total, 1))
    }

    deinit { storage.deallocate() }

    /// Bytes allocated (resident only as rows are written).
    var byteCount: Int { capacities.reduce(0) { $0 + 2 * $1 * width * 4 } }

    /// Keys of `layer`: row `r` holds position `firstPositions[layer] + r`.
    func keys(_ layer: Int) -> UnsafeMutablePointer<Float> { storage + offsets[layer] }

    /// Values of `layer`, rows as in ``keys(_:)``.
    func values(_ layer: Int) -> UnsafeMutablePointer<Float> { storage + offsets[layer] + capacities[layer] * width }

    /// Makes room in `layer` for `n` new positions from `start`, keeping positions from `oldest`
    /// on (rows before it are dropped if room is needed); returns the row where `start` goes.
    func reserve(layer: Int, start: Int, count n: Int, oldest: Int) -> Int {
        let first = firstPositions[layer]
        if start + n - first > capacities[layer] {
            let kept = start - oldest
            precondition(oldest >= first && kept + n <= capacities[layer], "a sliding layer's cache is smaller than its window and one pass")
            keys(layer).update(from: keys(layer) + (oldest - first) * width, count: kept * width)
            values(layer).update(from: values(layer) + (oldest - first) * width, count: kept * width)
            firstPositions[layer] = oldest
        }
        return start - firstPositions[layer]
    }
}
