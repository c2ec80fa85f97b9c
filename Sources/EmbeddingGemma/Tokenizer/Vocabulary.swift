/// The token pieces of a vocabulary as raw UTF-8 bytes, indexed both ways:
/// id → bytes, and bytes → id through an open-addressing hash table.
///
/// Pieces are compared as bytes, never as Swift `String`s: `String` equality follows Unicode
/// canonical equivalence, which would merge distinct pieces such as precomposed and decomposed
/// accents that the model treats as different tokens.
struct Vocabulary: Sendable {
    private var storage: [UInt8] = []
    private var starts: [Int32] = []
    private var lengths: [Int32] = []
    private var slots: [Int32] = []
    private var mask = 0

    /// Number of ids (one past the largest id).
    var count: Int { starts.count }

    /// Creates an empty vocabulary sized for about `expected` pieces.
    init(expectedCount: Int) {
        storage.reserveCapacity(expectedCount * 8)
        var capacity = 1024
        while capacity < expectedCount * 2 { capacity <<= 1 }
        slots = [Int32](repeating: -1, count: capacity)
        mask = capacity - 1
    }

    /// Adds `piece` with `id`. Returns false if the id or the piece is already present.
    mutating func insert<C: Collection>(_ piece: C, id: Int) -> Bool where C.Element == UInt8 {
        guard id >= 0, id < Int(Int32.max) else { return false }
        if id >= starts.count {
            starts.append(contentsOf: repeatElement(0, count: id + 1 - starts.count))
            lengths.append(contentsOf: repeatElement(-1, count: id + 1 - lengths.count))
        }
        guard lengths[id] < 0 else { return false }
        let start = storage.count
        storage.append(contentsOf: piece)
        let length = storage.count - start
        let found = storage.withUnsafeBufferPointer { buffer in
            findSlot(UnsafeBufferPointer(rebasing: buffer[start..<(start + length)]))
        }
        guard found.id == nil else {
            storage.removeLast(length)
            return false
        }
        starts[id] = Int32(start)
        lengths[id] = Int32(length)
        slots[found.slot] = Int32(id)
        if count * 2 > slots.count { grow() }
        return true
    }

    /// The id of `piece`, if present.
    func id(of piece: UnsafeBufferPointer<UInt8>) -> Int32? {
        findSlot(piece).id
    }

    /// The id of `piece`, if present.
    func id(of piece: [UInt8]) -> Int32? {
        piece.withUnsafeBufferPointer { findSlot($0).id }
    }

    /// The bytes of the piece with `id`, or nil for an id with no piece.
    func piece(_ id: Int) -> ArraySlice<UInt8>? {
        guard id >= 0, id < lengths.count, lengths[id] >= 0 else { return nil }
        let start = Int(starts[id])
        return storage[start..<(start + Int(lengths[id]))]
    }

    private func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            h = (h ^ UInt64(b)) &* 0x100_0000_01b3
        }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    private func findSlot(_ bytes: UnsafeBufferPointer<UInt8>) -> (slot: Int, id: Int32?) {
        var slot = hash(bytes) & mask
        return storage.withUnsafeBufferPointer { store in
            while true {
                let candidate = slots[slot]
                if candidate < 0 { return (slot, nil) }
                let length = Int(lengths[Int(candidate)])
                if length == bytes.count {
                    let start = Int(starts[Int(candidate)])
                    if length == 0 { return (slot, candidate) }
                    if let stored = store.baseAddress, let wanted = bytes.baseAddress,
                       memoryEqual(stored + start, wanted, length) {
                        return (slot, candidate)
                    }
                }
                slot = (slot + 1) & mask
            }
        }
    }

    private func memoryEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        for i in 0..<n where a[i] != b[i] { return false }
        return true
    }

    private mutating func grow() {
        let capacity = slots.count * 2
        slots = [Int32](repeating: -1, count: capacity)
        mask = capacity - 1
        for id in 0..<lengths.count where lengths[id] >= 0 {
            let start = Int(starts[id])
            let slot = storage.withUnsafeBufferPointer {
                findSlot(UnsafeBufferPointer(rebasing: $0[start..<(start + Int(lengths[id]))])).slot
            }
            slots[slot] = Int32(id)
        }
    }
}
