import EmbeddingGemma
import EmbeddingGemmaTestSupport
import Foundation
import Testing
@testable import GemmaSearch

/// Search results on an index large enough for every stage of the dense search (sign bits, int8
/// codes, exact float32 vectors) to take part: the same hits, in the same order, with the same
/// scores to the bit, however the index is opened.
@Suite("Search results are stable", .serialized)
struct SearchStabilityTests {
    static let model: EmbeddingModel = {
        // Force-unwrapping is acceptable in tests: a failure here fails the suite.
        try! EmbeddingModel(path: TinyModel.write())
    }()

    static let options = IndexOptions(chunkTokens: 24, overlapTokens: 4, batchTokens: 256)

    /// 24 files of 30 short lines of words drawn by a fixed generator (over 200 chunks, the
    /// first stage's candidate count), two of them copies of each other.
    static func corpus() throws -> String {
        let root = ScratchDirectory("stable").path
        let words = ["abc", "hi", "aa", "bb", "cab", "there", "words", "text", "zq-77", "marker", "line", "ab", "c", "ünï", "bach"]
        var seed: UInt64 = 42
        func next(_ bound: Int) -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((seed >> 33) % UInt64(bound))
        }
        for file in 0..<24 {
            var lines: [String] = []
            for _ in 0..<30 { lines.append((0..<(2 + next(4))).map { _ in words[next(words.count)] }.joined(separator: " ")) }
            let folder = root + (file % 3 == 0 ? "/sub" : "")
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try lines.joined(separator: "\n").write(toFile: folder + "/f\(file).txt", atomically: true, encoding: .utf8)
        }
        try FileManager.default.copyItem(atPath: root + "/f1.txt", toPath: root + "/copy.txt")
        return root
    }

    /// The searches compared: plain, by meaning only, with a strong lexical bonus, under a
    /// folder, one per file, with a score floor.
    static func searches(_ index: SemanticIndex, root: String) throws -> [[SearchHit]] {
        var results: [[SearchHit]] = []
        for query in ["abc hi", "zq-77 marker", "there words", "ünï", "bach line text"] {
            for limit in [1, 7, 40] {
                results.append(try index.search(query, limit: limit))
                results.append(try index.search(query, limit: limit, lexicalWeight: 0))
                results.append(try index.search(query, limit: limit, lexicalWeight: 5))
                results.append(try index.search(query, limit: limit, under: root + "/sub"))
                results.append(try index.search(query, limit: limit, filesOnly: true))
                results.append(try index.search(query, limit: limit, minScore: 0.1))
            }
        }
        return results
    }

    @Test("an index reopened with its recorded model or with the model given finds the same hits with the same scores")
    func reopened() throws {
        let root = try Self.corpus()
        let path = ScratchDirectory("stable-index").path + "/index.sqlite"
        let index = try SemanticIndex(path: path, model: Self.model, options: Self.options)
        try index.update([root], options: Self.options)
        #expect(try index.statistics().chunks > SemanticIndex.minimumCandidates)
        let first = try Self.searches(index, root: root)
        #expect(first.contains { $0.count == 40 })
        #expect(first.contains { $0.contains { $0.lexicalScore > 0 } })

        let recorded = try SemanticIndex.open(path: path)
        #expect(recorded.model.fingerprint == Self.model.fingerprint)
        #expect(try Self.searches(recorded, root: root) == first)
        let given = try SemanticIndex.open(path: path, model: Self.model)
        #expect(try Self.searches(given, root: root) == first)
        // Searching again in the same index (vectors cached) changes nothing either.
        #expect(try Self.searches(index, root: root) == first)
    }
}
