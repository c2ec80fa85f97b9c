/// The parts of a `tokenizer.json` this engine uses, read in one pass.
struct TokenizerFile {
    /// A structurally valid file that does not describe a tokenizer this engine supports.
    struct Invalid: Error {
        let reason: String
    }

    var vocabulary = Vocabulary(expectedCount: 262_144)
    var merges = BPEMerges(expectedCount: 520_000)
    var addedTokens = AddedTokenMatcher()
    var specialIds: Set<Int32> = []
    var unresolvedMerges = 0

    /// Reads the merges array at the scanner, resolving each pair against the vocabulary.
    mutating func readMerges(_ scanner: inout JSONScanner) throws(JSONScanner.Failure) {
        var left: [UInt8] = []
        var right: [UInt8] = []
        var joined: [UInt8] = []
        try scanner.readArray { (s: inout JSONScanner) throws(JSONScanner.Failure) in
            if try s.peek() == UInt8(ascii: "[") {
                var parts = 0
                try s.readArray { (s: inout JSONScanner) throws(JSONScanner.Failure) in
                    if parts == 0 { try s.readString(into: &left) } else { try s.readString(into: &right) }
                    parts += 1
                }
                guard parts == 2 else { throw s.failure("a merge must have two parts") }
            } else {
                // Older format: "left right" in one string.
                try s.readString(into: &joined)
                guard let space = joined.firstIndex(of: 0x20) else { throw s.failure("a merge must have two parts") }
                left = Array(joined[..<space])
                right = Array(joined[(space + 1)...])
            }
            joined.removeAll(keepingCapacity: true)
            joined.append(contentsOf: left)
            joined.append(contentsOf: right)
            guard let l = vocabulary.id(of: left), let r = vocabulary.id(of: right),
                  let m = vocabulary.id(of: joined) else {
                unresolvedMerges += 1
                return
            }
            merges.append(left: l, right: r, merged: m)
        }
    }

    static func parse(_ bytes: UnsafeRawBufferPointer) throws -> TokenizerFile {
        var file = TokenizerFile()
        var scanner = JSONScanner(bytes)
        var added: [(content: [UInt8], id: Int32, special: Bool)] = []
        var mergesData: (start: Int, end: Int)? = nil
        var sawModel = false
        var sawVocabulary = false
        var sawMerges = false
        try scanner.readObject { (s: inout JSONScanner, key: [UInt8]) throws(JSONScanner.Failure) in
            switch String(decoding: key, as: UTF8.self) {
            case "added_tokens":
                try s.readArray { (s: inout JSONScanner) throws(JSONScanner.Failure) in
                    var content: [UInt8]? = nil
                    var id: Int? = nil
                    var special = false
                    var scratch: [UInt8] = []
                    try s.readObject { (s: inout JSONScanner, field: [UInt8]) throws(JSONScanner.Failure) in
                        switch String(decoding: field, as: UTF8.self) {
                        case "content":
                            try s.readString(into: &scratch)
                            content = scratch
                        case "id": id = try s.readInteger()
                        case "special": special = try s.readBool()
                        default: try s.skipValue()
                        }
                    }
                    guard let content, let id, id >= 0, id < Int(Int32.max), !content.isEmpty else {
                        throw s.failure("added token without content or id")
                    }
                    added.append((content, Int32(id), special))
                }
            case "model":
                sawModel = true
                try s.readObject { (s: inout JSONScanner, field: [UInt8]) throws(JSONScanner.Failure) in
                    switch String(decoding: field, as: UTF8.self) {
                    case "type":
                        var type: [UInt8] = []
                        try s.readString(into: &type)
                        guard type == Array("BPE".utf8) else { throw s.failure("model type is not BPE") }
                    case "byte_fallback":
                        guard try s.readBool() else { throw s.failure("byte_fallback must be true for Gemma") }
                    case "vocab":
                        sawVocabulary = true
                        try s.readObject { (s: inout JSONScanner, key: [UInt8]) throws(JSONScanner.Failure) in
                            let id = try s.readInteger()
                            guard file.vocabulary.insert(key, id: id) else {
                                throw s.failure("duplicate or invalid vocabulary entry (id \(id))")
                            }
                        }
                    case "merges":
                        // Merges name pieces, so they are resolved against the vocabulary; in the
                        // unusual case that they come first, remember where they are for later.
                        sawMerges = true
                        if sawVocabulary {
                            try file.readMerges(&s)
                        } else {
                            let start = s.position
                            try s.skipValue()
                            mergesData = (start, s.position)
                        }
                    default:
                        try s.skipValue()
                    }
                }
            default:
                try s.skipValue()
            }
        }
        guard scanner.isAtEnd() else { throw scanner.failure("trailing characters after JSON") }
        guard sawModel, file.vocabulary.count > 0 else { throw Invalid(reason: "no model vocabulary") }

        for token in added {
            let existing = file.vocabulary.id(of: token.content)
            if existing == nil {
                guard file.vocabulary.insert(token.content, id: Int(token.id)) else {
                    throw Invalid(reason: "added token id \(token.id) clashes with the vocabulary")
                }
            } else if existing != token.id {
                throw Invalid(reason: "added token id \(token.id) differs from its vocabulary id")
            }
            file.addedTokens.add(token.content, id: token.id)
            if token.special { file.specialIds.insert(token.id) }
        }

        if let mergesData {
            var mergeScanner = JSONScanner(UnsafeRawBufferPointer(rebasing: bytes[mergesData.start..<mergesData.end]))
            try file.readMerges(&mergeScanner)
        }
        guard sawMerges else { throw Invalid(reason: "no merges in the BPE model") }
        if file.unresolvedMerges > 0 {
            throw Invalid(reason: "\(file.unresolvedMerges) merges name pieces missing from the vocabulary")
        }
        return file
    }
}
