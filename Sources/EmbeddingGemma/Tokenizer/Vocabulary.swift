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
    /// Hash table slots: the id of a piece, or `emptySlot` when free. Ids only (4 bytes a slot, 2 MB
    /// for Gemma's 262 144 pieces at half load); a probe compares lengths before bytes.
    private var slots: [UInt32] = []
    private static let emptySlot = UInt32.max
    private var mask = 0

    /// Number of ids (one past the largest id).
    var count: Int { starts.count }

    /// Creates an empty vocabulary sized for about `expected` pieces.
    init(expectedCount: Int) {
        storage.reserveCapacity(expectedCount * 8)
        var capacity = 1024
        while capacity < expectedCount * 2 { capacity <<= 1 }
        slots = [UInt32](repeating: Self.emptySlot, count: capacity)
        mask = capacity - 1
    }

    /// Adds `piece` with `id`. Returns false if the id or the piece is already present.
    mutating func insert<C: Collection>(_ piece: C, id: Int) -> Bool where C.Element == UInt8 {
        guard id >= 0, id < Int(Int32.max), id != Int(Self.emptySlot) else { return false }
        if id >= starts.count {
            starts.append(contentsOf: repeatElement(0, count: id + 1 - starts.count))
            lengths.append(contentsOf: repeatElement(-1, count: id + 1 - lengths.count))
        }
        guard lengths[id] < 0 else { return false }
        let start = storage.count
        storage.append(contentsOf: piece)
        let length = storage.count - start
        let found = storage.withUnsafeBufferPointer { buffer in
            let piece = UnsafeBufferPointer(rebasing: buffer[start..<(start + length)])
            return findSlot(piece, hash: Self.hash(piece))
        }
        guard found.id == nil else {
            storage.removeLast(length)
            return false
        }
        starts[id] = Int32(start)
        lengths[id] = Int32(length)
        slots[found.slot] = UInt32(id)
        if count * 2 > slots.count { grow() }
        return true
    }

    /// The id of `piece`, if present.
    func id(of piece: UnsafeBufferPointer<UInt8>) -> Int32? {
        findSlot(piece, hash: Self.hash(piece)).id
    }

    /// The id of `piece`, if present.
    func id(of piece: [UInt8]) -> Int32? {
        piece.withUnsafeBufferPointer { id(of: $0) }
    }

    /// The id of the piece spelled by piece `left` followed by piece `right`, if present
    /// (no copy: the hash and the comparison run over both stored pieces).
    func id(joining left: Int32, _ right: Int32) -> Int32? {
        let l = Int(left), r = Int(right)
        guard l >= 0, r >= 0, l < lengths.count, r < lengths.count, lengths[l] >= 0, lengths[r] >= 0 else { return nil }
        return storage.withUnsafeBufferPointer { store -> Int32? in
            guard let base = store.baseAddress else { return nil }
            let a = UnsafeBufferPointer(start: base + Int(starts[l]), count: Int(lengths[l]))
            let b = UnsafeBufferPointer(start: base + Int(starts[r]), count: Int(lengths[r]))
            return findSlot(a, b, hash: Self.hash(a, b)).id
        }
    }

    /// The bytes of the piece with `id`, or nil for an id with no piece.
    func piece(_ id: Int) -> ArraySlice<UInt8>? {
        guard id >= 0, id < lengths.count, lengths[id] >= 0 else { return nil }
        let start = Int(starts[id])
        return storage[start..<(start + Int(lengths[id]))]
    }

    /// FNV-1a over the bytes of `a` then `b`, with the high bits folded in (the table uses the low ones).
    private static func hash(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8> = Self.noBytes) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in a { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        for byte in b { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return h ^ (h >> 29)
    }

    private static var noBytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: nil, count: 0) }

    /// The slot of the piece spelled by `a` followed by `b` (no bytes for a single piece): its id if
    /// present, else the free slot where it would go.
    private func findSlot(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8> = Self.noBytes,
                          hash: UInt64) -> (slot: Int, id: Int32?) {
        let total = a.count + b.count
        var slot = Int(truncatingIfNeeded: hash) & mask
        return slots.withUnsafeBufferPointer { table in
            storage.withUnsafeBufferPointer { store in
                while true {
                    let value = table[slot]
                    if value == Self.emptySlot { return (slot, nil) }
                    let candidate = Int(value)
                    if Int(lengths[candidate]) == total {
                        if total == 0 { return (slot, Int32(candidate)) }
                        if let base = store.baseAddress {
                            let stored = base + Int(starts[candidate])
                            if memoryEqual(stored, a.baseAddress ?? stored, a.count),
                               memoryEqual(stored + a.count, b.baseAddress ?? stored, b.count) {
                                return (slot, Int32(candidate))
                            }
                        }
                    }
                    slot = (slot + 1) & mask
                }
            }
        }
    }

    private func memoryEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        for i in 0..<n where a[i] != b[i] { return false }
        return true
    }

    private mutating func grow() {
        let capacity = slots.count * 2
        slots = [UInt32](repeating: Self.emptySlot, count: capacity)
        mask = capacity - 1
        for id in 0..<lengths.count where lengths[id] >= 0 {
            let start = Int(starts[id])
            let length = Int(lengths[id])
            let slot = storage.withUnsafeBufferPointer { buffer in
                let piece = UnsafeBufferPointer(rebasing: buffer[start..<(start + length)])
                return findSlot(piece, hash: Self.hash(piece)).slot
            }
            slots[slot] = UInt32(id)
        }
    }
}
