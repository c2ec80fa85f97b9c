/// Gemma's tokenizer: SentencePiece-style BPE with byte fallback, read from `tokenizer.json`.
///
/// Produces exactly the ids of the reference (`tokenizers` as used by sentence-transformers):
/// added tokens typed in the text (`<bos>`, `<start_of_image>`, `<unused0>`, runs of newlines)
/// are recognised first, every space becomes `▁`, each remaining stretch of text is merged by
/// rank, and `<bos>` … `<eos>` surround the result.
///
/// Loading memory-maps the file and scans it in one pass without building a JSON tree.
public struct GemmaTokenizer: Sendable {
    private let vocabulary: Vocabulary
    private let merges: BPEMerges
    private let addedTokens: AddedTokenMatcher
    private let specialIds: Set<Int32>
    /// Id of each `<0xXX>` byte-fallback token.
    private let byteTokenIds: [Int32]
    /// The byte each `<0xXX>` token stands for.
    private let byteValueById: [Int32: UInt8]

    /// Id of `<bos>`, added before every text.
    public let bosTokenId: Int
    /// Id of `<eos>`, added after every text.
    public let eosTokenId: Int
    /// Id of `<pad>`.
    public let padTokenId: Int

    /// Number of token ids (the vocabulary size).
    public var vocabularySize: Int { vocabulary.count }

    /// Loads a `tokenizer.json` (Hugging Face `tokenizers` format, BPE model with byte fallback).
    /// - Throws: ``EmbeddingGemmaError/modelNotFound(path:hint:)`` if the file is missing,
    ///   ``EmbeddingGemmaError/invalidTokenizer(path:reason:)`` if it is malformed.
    public init(contentsOf path: String) throws(EmbeddingGemmaError) {
        let file = try MappedFile(path: path)
        var parsed: TokenizerFile
        do {
            parsed = try TokenizerFile.parse(file.bytes)
        } catch let failure as JSONScanner.Failure {
            throw .invalidTokenizer(path: path, reason: failure.description)
        } catch let error as TokenizerFile.Invalid {
            throw .invalidTokenizer(path: path, reason: error.reason)
        } catch {
            throw .invalidTokenizer(path: path, reason: "\(error)")
        }
        try self.init(vocabulary: parsed.vocabulary, merges: parsed.merges, addedTokens: parsed.addedTokens,
                      specialIds: parsed.specialIds, source: path)
    }

    private init(vocabulary: Vocabulary, merges: BPEMerges, addedTokens: AddedTokenMatcher, specialIds: Set<Int32>,
                 source path: String) throws(EmbeddingGemmaError) {
        func require(_ piece: String) throws(EmbeddingGemmaError) -> Int32 {
            guard let id = vocabulary.id(of: Array(piece.utf8)) else {
                throw .invalidTokenizer(path: path, reason: "the vocabulary has no \(piece) token")
            }
            return id
        }
        bosTokenId = Int(try require("<bos>"))
        eosTokenId = Int(try require("<eos>"))
        padTokenId = Int(try require("<pad>"))
        var byteIds = [Int32](repeating: -1, count: 256)
        var byteValues: [Int32: UInt8] = [:]
        let hex = Array("0123456789ABCDEF".utf8)
        for b in 0..<256 {
            let piece: [UInt8] = Array("<0x".utf8) + [hex[b >> 4], hex[b & 15]] + [UInt8(ascii: ">")]
            guard let id = vocabulary.id(of: piece) else {
                throw .invalidTokenizer(path: path, reason: "byte fallback token <0x\(String(b, radix: 16, uppercase: true))> is missing")
            }
            byteIds[b] = id
            byteValues[id] = UInt8(b)
        }
        self.vocabulary = vocabulary
        self.merges = merges
        self.addedTokens = addedTokens
        self.specialIds = specialIds
        byteTokenIds = byteIds
        byteValueById = byteValues
    }

    /// Builds the tokenizer from SentencePiece pieces, scores and types (GGUF's
    /// `tokenizer.ggml.tokens`, `scores` and `token_type`, or a `tokenizer.model`).
    ///
    /// SentencePiece BPE merges the adjacent pair whose concatenation is the piece with the highest
    /// score; normal and user-defined pieces are merge results, ranked as the reference converts such
    /// models (see ``BPEMerges``). Control, unknown and user-defined pieces are matched in the text
    /// first, as `tokenizer.json`'s added tokens are.
    /// - Parameter source: the file the pieces came from, for error messages.
    init(sentencePiece model: SentencePieceModel, source: String) throws(EmbeddingGemmaError) {
        let vocabulary = model.vocabulary
        let types = model.types
        guard vocabulary.count == model.count, model.count > 0 else {
            throw .invalidTokenizer(path: source, reason: "the vocabulary has gaps")
        }
        var added = AddedTokenMatcher()
        var special: Set<Int32> = []
        for id in 0..<model.count {
            guard let slice = vocabulary.piece(id) else { continue }
            let piece = Array(slice)
            switch SentencePieceModel.PieceType(rawValue: types[id]) {
            case .control, .unknown:
                added.add(piece, id: Int32(id))
                special.insert(Int32(id))
            case .userDefined:
                added.add(piece, id: Int32(id))
            default:
                break
            }
        }
        let mergeable = types.map { $0 == SentencePieceModel.PieceType.normal.rawValue || $0 == SentencePieceModel.PieceType.userDefined.rawValue }
        let merges = BPEMerges(vocabulary: vocabulary, scores: model.scores, mergeable: mergeable)
        try self.init(vocabulary: vocabulary, merges: merges, addedTokens: added, specialIds: special, source: source)
    }

    /// Token ids of `text`, with `<bos>` and `<eos>` around them when `addSpecialTokens` is true.
    public func encode(_ text: String, addSpecialTokens: Bool = true) -> [Int] {
        encodeIds(text, addSpecialTokens: addSpecialTokens).map(Int.init)
    }

    /// Token ids as 32-bit integers, the form the encoder consumes.
    func encodeIds(_ text: String, addSpecialTokens: Bool = true) -> [Int32] {
        var output: [Int32] = []
        output.reserveCapacity(text.utf8.count / 3 + 2)
        if addSpecialTokens { output.append(Int32(bosTokenId)) }
        Array(text.utf8).withUnsafeBufferPointer { bytes in
            var normalized: [UInt8] = []
            var symbols: [Int32] = []
            for segment in addedTokens.split(bytes) {
                switch segment {
                case .token(let id):
                    output.append(id)
                case .text(let range):
                    normalize(UnsafeBufferPointer(rebasing: bytes[range]), into: &normalized)
                    initialSymbols(normalized, into: &symbols)
                    merges.merge(symbols, into: &output)
                }
            }
        }
        if addSpecialTokens { output.append(Int32(eosTokenId)) }
        return output
    }

    /// The normalizer: every space (U+0020) becomes `▁` (U+2581).
    private func normalize(_ bytes: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        output.removeAll(keepingCapacity: true)
        output.reserveCapacity(bytes.count * 3)
        for b in bytes {
            if b == 0x20 {
                output.append(0xE2)
                output.append(0x96)
                output.append(0x81)
            } else {
                output.append(b)
            }
        }
    }

    /// One symbol per Unicode scalar; scalars outside the vocabulary become their UTF-8 bytes.
    private func initialSymbols(_ bytes: [UInt8], into symbols: inout [Int32]) {
        symbols.removeAll(keepingCapacity: true)
        bytes.withUnsafeBufferPointer { buffer in
            var i = 0
            let n = buffer.count
            while i < n {
                let lead = buffer[i]
                var length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
                if i + length > n { length = n - i }
                let scalar = UnsafeBufferPointer(rebasing: buffer[i..<(i + length)])
                if let id = vocabulary.id(of: scalar) {
                    symbols.append(id)
                } else {
                    for b in scalar { symbols.append(byteTokenIds[Int(b)]) }
                }
                i += length
            }
        }
    }

    /// Text of `ids`: `▁` back to spaces, `<0xXX>` tokens reassembled into UTF-8
    /// (invalid sequences become U+FFFD). Special tokens are kept unless `skipSpecialTokens`.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) -> String {
        var bytes: [UInt8] = []
        for id in ids {
            guard id >= 0, id < vocabulary.count, let piece = vocabulary.piece(id) else { continue }
            if skipSpecialTokens, specialIds.contains(Int32(id)) { continue }
            if let byteValue = byteValueById[Int32(id)] {
                bytes.append(byteValue)
                continue
            }
            var i = piece.startIndex
            while i < piece.endIndex {
                if piece[i] == 0xE2, i + 2 < piece.endIndex, piece[i + 1] == 0x96, piece[i + 2] == 0x81 {
                    bytes.append(0x20)
                    i += 3
                } else {
                    bytes.append(piece[i])
                    i += 1
                }
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Ids of the ordinary text pieces, in id order: no control, added or byte tokens and no
    /// markup pieces such as `<unused0>` or `[multimodal]`.
    func ordinaryPieceIds() -> [Int32] {
        var ids: [Int32] = []
        ids.reserveCapacity(vocabulary.count)
        let added = addedTokens.tokenIds
        for id in 0..<vocabulary.count {
            let token = Int32(id)
            guard !specialIds.contains(token), byteValueById[token] == nil, !added.contains(token),
                  let piece = vocabulary.piece(id), let first = piece.first, let last = piece.last else { continue }
            let isMarkup = (first == UInt8(ascii: "<") && last == UInt8(ascii: ">"))
                || (first == UInt8(ascii: "[") && last == UInt8(ascii: "]"))
            if !isMarkup { ids.append(token) }
        }
        return ids
    }

    /// The piece of `id` as text (`▁` kept), or nil for an unknown id.
    public func piece(for id: Int) -> String? {
        vocabulary.piece(id).map { String(decoding: $0, as: UTF8.self) }
    }
}
