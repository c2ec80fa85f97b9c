/// Finds added tokens (`<bos>`, `<start_of_image>`, `<unused0>`, runs of newlines, ...) in raw
/// text the way the reference does: leftmost match first, and the longest one at that position.
struct AddedTokenMatcher: Sendable {
    /// Trie edges: node << 8 | byte → child node.
    private var edges: [Int: Int32] = [:]
    /// Token id ending at each node, or -1.
    private var terminal: [Int32] = [-1]
    /// Whether any token starts with this byte (fast rejection at the root).
    private var firstByte = [Bool](repeating: false, count: 256)

    init() {}

    /// Registers `content` (UTF-8 bytes, non-empty) as token `id`.
    /// The ids of every added token.
    var tokenIds: Set<Int32> { Set(terminal.filter { $0 >= 0 }) }

    mutating func add(_ content: [UInt8], id: Int32) {
        guard let first = content.first else { return }
        firstByte[Int(first)] = true
        var node = 0
        for byte in content {
            let key = node << 8 | Int(byte)
            if let child = edges[key] {
                node = Int(child)
            } else {
                terminal.append(-1)
                let child = terminal.count - 1
                edges[key] = Int32(child)
                node = child
            }
        }
        terminal[node] = id
    }

    /// A piece of text: either plain bytes to tokenize, or one added token.
    enum Segment: Equatable {
        case text(Range<Int>)
        case token(Int32)
    }

    /// Splits `bytes` into plain text and added tokens.
    func split(_ bytes: UnsafeBufferPointer<UInt8>) -> [Segment] {
        var segments: [Segment] = []
        var textStart = 0
        var i = 0
        let n = bytes.count
        while i < n {
            guard firstByte[Int(bytes[i])] else {
                i += 1
                continue
            }
            var node = 0
            var j = i
            var best: (end: Int, id: Int32)?
            while j < n, let child = edges[node << 8 | Int(bytes[j])] {
                node = Int(child)
                j += 1
                if terminal[node] >= 0 { best = (j, terminal[node]) }
            }
            if let best {
                if textStart < i { segments.append(.text(textStart..<i)) }
                segments.append(.token(best.id))
                i = best.end
                textStart = i
            } else {
                i += 1
            }
        }
        if textStart < n { segments.append(.text(textStart..<n)) }
        return segments
    }
}
