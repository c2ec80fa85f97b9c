/// The pieces of a SentencePiece `tokenizer.model` (a `ModelProto` protocol buffer): each piece's
/// UTF-8 bytes, score and type. This is where llama.cpp's converter takes a Gemma vocabulary
/// from, so a GGUF written from it carries the same `tokenizer.ggml.*` arrays.
struct SentencePieceModel: Sendable {
    /// SentencePiece piece types (the same numbers as GGUF's `tokenizer.ggml.token_type`).
    enum PieceType: Int32, Sendable {
        case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    /// Piece bytes by id, indexed both ways.
    private(set) var vocabulary = Vocabulary(expectedCount: 262_144)
    /// Number of pieces.
    var count: Int { scores.count }
    /// Score by id: higher merges first.
    var scores: [Float] = []
    /// Type by id (raw ``PieceType`` values).
    var types: [Int32] = []

    /// Reads the model at `path`.
    init(path: String) throws(EmbeddingGemmaError) {
        let file = try MappedFile(path: path)
        do {
            try parse(file.bytes)
        } catch {
            throw .invalidTokenizer(path: path, reason: "not a SentencePiece model (\(error.message))")
        }
        guard count > 0 else { throw .invalidTokenizer(path: path, reason: "the SentencePiece model has no pieces") }
    }

    /// The `tokenizer.ggml.tokens`, `scores` and `token_type` arrays of a GGUF file, read straight
    /// from the mapping (no intermediate array of 262 144 strings).
    init(gguf: GGUFFile) throws(EmbeddingGemmaError) {
        let path = gguf.path
        guard let scoreValues = gguf.numbers("tokenizer.ggml.scores"), let typeValues = gguf.numbers("tokenizer.ggml.token_type") else {
            throw .invalidTokenizer(path: path, reason: "tokenizer.ggml.scores or token_type is missing or not numeric")
        }
        scores = scoreValues.map { Float($0) }
        for t in typeValues {
            guard let t32 = Int32(exactly: t) else { throw .invalidTokenizer(path: path, reason: "token type \(t) is out of range") }
            types.append(t32)
        }
        vocabulary = Vocabulary(expectedCount: scores.count)
        var inserted = 0
        var duplicate: Int? = nil
        let found = try gguf.forEachString("tokenizer.ggml.tokens") { id, bytes in
            if duplicate == nil, !vocabulary.insert(bytes, id: id) { duplicate = id }
            inserted += 1
        }
        guard found else { throw .invalidTokenizer(path: path, reason: "tokenizer.ggml.tokens is missing or not an array of strings") }
        if let duplicate { throw .invalidTokenizer(path: path, reason: "token \(duplicate) repeats an earlier token") }
        guard inserted == scores.count, inserted == types.count, inserted > 0 else {
            throw .invalidTokenizer(path: path, reason: "\(inserted) tokens, \(scores.count) scores and \(types.count) types")
        }
    }

    /// The bytes of piece `id`.
    func piece(_ id: Int) -> [UInt8] {
        vocabulary.piece(id).map(Array.init) ?? []
    }

    struct Failure: Error {
        let message: String
    }

    private mutating func parse(_ bytes: UnsafeRawBufferPointer) throws(Failure) {
        var reader = ProtoReader(bytes: bytes, position: 0, end: bytes.count)
        while !reader.isAtEnd {
            let (field, wire) = try reader.tag()
            if field == 1, wire == 2 {
                var sub = try reader.submessage()
                var piece: [UInt8] = []
                var score: Float = 0
                var type: Int32 = PieceType.normal.rawValue
                while !sub.isAtEnd {
                    let (f, w) = try sub.tag()
                    switch (f, w) {
                    case (1, 2): piece = try sub.lengthDelimited()
                    case (2, 5): score = Float(bitPattern: try sub.fixed32())
                    case (3, 0): type = Int32(truncatingIfNeeded: try sub.varint())
                    default: try sub.skip(wire: w)
                    }
                }
                guard !piece.isEmpty, vocabulary.insert(piece, id: scores.count) else {
                    throw Failure(message: "piece \(scores.count) is empty or repeats an earlier piece")
                }
                scores.append(score)
                types.append(type)
            } else {
                try reader.skip(wire: wire)
            }
        }
    }

    /// A bounds-checked protocol buffer wire-format reader.
    private struct ProtoReader {
        let bytes: UnsafeRawBufferPointer
        var position: Int
        let end: Int

        var isAtEnd: Bool { position >= end }

        mutating func varint() throws(Failure) -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard position < end, shift < 64 else { throw Failure(message: "bad varint") }
                let b = bytes[position]
                position += 1
                value |= UInt64(b & 0x7F) << shift
                if b & 0x80 == 0 { return value }
                shift += 7
            }
        }

        mutating func tag() throws(Failure) -> (field: UInt64, wire: UInt64) {
            let t = try varint()
            return (t >> 3, t & 7)
        }

        mutating func fixed32() throws(Failure) -> UInt32 {
            guard end - position >= 4 else { throw Failure(message: "truncated fixed32") }
            defer { position += 4 }
            return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self))
        }

        mutating func length() throws(Failure) -> Int {
            let n = try varint()
            guard n <= UInt64(end - position) else { throw Failure(message: "length runs past the end") }
            return Int(n)
        }

        mutating func lengthDelimited() throws(Failure) -> [UInt8] {
            let n = try length()
            defer { position += n }
            return Array(bytes[position..<(position + n)])
        }

        mutating func submessage() throws(Failure) -> ProtoReader {
            let n = try length()
            defer { position += n }
            return ProtoReader(bytes: bytes, position: position, end: position + n)
        }

        mutating func skip(wire: UInt64) throws(Failure) {
            switch wire {
            case 0: _ = try varint()
            case 1:
                guard end - position >= 8 else { throw Failure(message: "truncated fixed64") }
                position += 8
            case 2: position += try length()
            case 5: _ = try fixed32()
            default: throw Failure(message: "unsupported wire type \(wire)")
            }
        }
    }
}
