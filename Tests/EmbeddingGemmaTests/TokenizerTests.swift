import Foundation
import Testing
@testable import EmbeddingGemma
import EmbeddingGemmaTestSupport

@Suite("Tokenizer (toy vocabulary)")
struct TokenizerTests {
    static let tokenizer: GemmaTokenizer = {
        let path = ScratchDirectory("toy-tokenizer").path + "/tokenizer.json"
        try? TinyModel.tokenizerJSON().write(toFile: path, atomically: true, encoding: .utf8)
        // Force-unwrapping is acceptable in tests: a failure here fails the suite.
        return try! GemmaTokenizer(contentsOf: path)
    }()

    func id(_ piece: String) -> Int { TinyModel.pieceId(piece) }

    @Test func mergesByRank() {
        let t = Self.tokenizer
        #expect(t.encode("abc") == [2, id("abc"), 1])
        #expect(t.encode("ab") == [2, id("ab"), 1])
        #expect(t.encode("hi", addSpecialTokens: false) == [id("hi")])
    }

    @Test func spacesBecomeMetaspaceWithoutDummyPrefix() {
        let t = Self.tokenizer
        #expect(t.encode("ab c", addSpecialTokens: false) == [id("ab"), id("▁"), id("c")])
        #expect(t.encode(" a", addSpecialTokens: false) == [id("▁a")])
        #expect(t.encode("  ", addSpecialTokens: false) == [id("▁▁")])
    }

    @Test func leftmostPairWinsOnEqualRank() {
        // "aaa": a+a merges at position 0 first, leaving the last "a".
        #expect(Self.tokenizer.encode("aaa", addSpecialTokens: false) == [id("aa"), id("a")])
    }

    @Test func byteFallbackForUnknownScalars() {
        // "é" is not in the vocabulary: its two UTF-8 bytes become <0xC3> <0xA9>.
        #expect(Self.tokenizer.encode("é", addSpecialTokens: false) == [4 + 0xC3, 4 + 0xA9])
        #expect(Self.tokenizer.decode([4 + 0xC3, 4 + 0xA9]) == "é")
    }

    @Test func addedTokensInTextAreRecognised() {
        let t = Self.tokenizer
        #expect(t.encode("hi<tag>abc", addSpecialTokens: false) == [id("hi"), id("<tag>"), id("abc")])
        #expect(t.encode("<bos>", addSpecialTokens: false) == [2])
        #expect(t.encode("<ta", addSpecialTokens: false).count == 3)
    }

    @Test func emptyTextIsJustSpecialTokens() {
        #expect(Self.tokenizer.encode("") == [2, 1])
    }

    @Test func decodeRestoresSpacesAndSkipsSpecials() {
        let t = Self.tokenizer
        let ids = t.encode("ab c hi")
        #expect(t.decode(ids) == "<bos>ab c hi<eos>")
        #expect(t.decode(ids, skipSpecialTokens: true) == "ab c hi")
        #expect(t.decode([-1, 99_999]) == "")
    }

    @Test func precomposedAndDecomposedPiecesStayDistinct() {
        var vocabulary = Vocabulary(expectedCount: 4)
        let insertedPrecomposed = vocabulary.insert(Array("\u{E9}".utf8), id: 0)
        let insertedDecomposed = vocabulary.insert(Array("e\u{301}".utf8), id: 1)
        #expect(insertedPrecomposed)
        #expect(insertedDecomposed)
        #expect(vocabulary.id(of: Array("\u{E9}".utf8)) == 0)
        #expect(vocabulary.id(of: Array("e\u{301}".utf8)) == 1)
        let reused = vocabulary.insert(Array("x".utf8), id: 1)
        #expect(!reused, "an id is taken once")
    }

    @Test func addedTokenMatcherIsLeftmostLongest() {
        var matcher = AddedTokenMatcher()
        matcher.add(Array("<a".utf8), id: 10)
        matcher.add(Array("<ab>".utf8), id: 11)
        matcher.add(Array("\n".utf8), id: 12)
        matcher.add(Array("\n\n".utf8), id: 13)
        let text = Array("x<ab>y<a\n\n\n".utf8)
        let segments = text.withUnsafeBufferPointer { matcher.split($0) }
        #expect(segments == [.text(0..<1), .token(11), .text(5..<6), .token(10), .token(13), .token(12)])
    }

    @Test func malformedTokenizerFilesAreErrors() throws {
        let dir = ScratchDirectory("bad-tokenizer").path
        let good = TinyModel.tokenizerJSON()
        let cases = [
            "",
            "{",
            String(good.prefix(good.count / 2)),
            good.replacingOccurrences(of: "\"BPE\"", with: "\"Unigram\""),
            good.replacingOccurrences(of: "[\"h\", \"i\"]", with: "[\"h\", \"zz\"]"),
            good + "x",
        ]
        for (i, text) in cases.enumerated() {
            let path = dir + "/t\(i).json"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            #expect(throws: EmbeddingGemmaError.self, "case \(i)") { try GemmaTokenizer(contentsOf: path) }
        }
        #expect(throws: EmbeddingGemmaError.self) { try GemmaTokenizer(contentsOf: dir + "/missing.json") }
    }
}

@Suite("JSON scanner")
struct JSONScannerTests {
    func string(_ json: String) throws -> String {
        var bytes = Array(json.utf8)
        return try bytes.withUnsafeMutableBytes { raw in
            var scanner = JSONScanner(UnsafeRawBufferPointer(raw))
            var out: [UInt8] = []
            try scanner.readString(into: &out)
            return String(decoding: out, as: UTF8.self)
        }
    }

    @Test func escapes() throws {
        #expect(try string(#""a\"b\\c\/\n\t""#) == "a\"b\\c/\n\t")
        #expect(try string(#""\u00e9\u2581""#) == "é▁")
        #expect(try string(#""\ud83e\udd16""#) == "🤖")
    }

    @Test func invalidInputThrows() {
        for bad in [#""abc"#, #""\x""#, #""\ud83e""#, #""\u12"#, "\"a\u{01}\""] {
            #expect(throws: JSONScanner.Failure.self, "\(bad)") { try string(bad) }
        }
    }
}
