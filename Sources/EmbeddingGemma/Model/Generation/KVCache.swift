/// The keys and values of every layer for the tokens a generator has read so far, sized for a
/// fixed context: `[context × kvHeads·headDim]` float32 per layer for keys and for values.
///
/// One cache belongs to one generation at a time (it is not shared between threads).
final class KVCache {
    /// Tokens the cache can hold.
    let capacity: Int
    /// Floats per token row (`kvHeads · headDim`).
    let width: Int
    /// Tokens held now (the position of the next token).
    var count = 0
    private let storage: UnsafeMutablePointer<Float>
    private let layerCount: Int

    init(layers: Int, capacity: Int, width: Int) {
        self.capacity = capacity
        self.width = width
        layerCount = layers
        let total = max(layers * 2 * capacity * width, 1)
        storage = UnsafeMutablePointer<Float>.allocate(capacity: total)
        storage.initialize(repeating: 0, count: total)
    }

    deinit { storage.deallocate() }

    /// Bytes held.
    var byteCount: Int { layerCount * 2 * capacity * width * 4 }

    /// Keys of `layer`, `[capacity × width]`.
    func keys(_ layer: Int) -> UnsafeMutablePointer<Float> { storage + (2 * layer) * capacity * width }

    /// Values of `layer`, `[capacity × width]`.
    func values(_ layer: Int) -> UnsafeMutablePointer<Float> { storage + (2 * layer + 1) * capacity * width }
}
