import Testing
@testable import GemmaSearch

@Suite("Compressed vectors")
struct VectorCodeTests {
    static func randomUnit(_ n: Int, seed: inout UInt64) -> [Float] {
        var v = (0..<n).map { _ -> Float in
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int64(bitPattern: seed) >> 11) / Float(1 << 52)
        }
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        v = v.map { $0 / norm }
        return v
    }

    @Test("signs and int8 codes round-trip through their stored bytes; codes approximate the values within half a step")
    func roundTrip() throws {
        var seed: UInt64 = 1
        let v = Self.randomUnit(768, seed: &seed)
        let code = VectorCode(v)
        let back = try #require(VectorCode(signBytes: code.signBytes, codeBytes: code.codeBytes, scale: code.scale, dimensions: 768))
        #expect(back == code)
        for i in 0..<768 {
            #expect(abs(Float(code.codes[i]) * code.scale - v[i]) <= code.scale / 2 + 1e-7)
            #expect(((code.signs[i / 64] >> UInt64(i % 64)) & 1 == 1) == (v[i] >= 0))
        }
        #expect(VectorCode(signBytes: code.signBytes, codeBytes: code.codeBytes.dropLast(), scale: 1, dimensions: 768) == nil)
    }

    @Test("the top-k heap keeps exactly the rows of the k highest scores")
    func topScores() {
        let scores: [Float] = [5, 1, 3, 1.5, 9, 3.5, 0, 4]
        var top = TopScores(capacity: 3)
        for (row, score) in scores.enumerated() { top.offer(row, score) }
        #expect(top.rows.sorted() == [0, 4, 7])
        var all = TopScores(capacity: 20)
        for (row, score) in scores.enumerated() { all.offer(row, score) }
        #expect(all.rows.sorted() == Array(0..<8))
    }

    @Test("the sign table scores a row as the sum of ±query over its dimensions")
    func signTable() {
        var seed: UInt64 = 9
        let query = Self.randomUnit(130, seed: &seed)
        let document = Self.randomUnit(130, seed: &seed)
        var matrix = VectorMatrix(dimensions: 130)
        matrix.append(chunkId: 1, code: VectorCode(document))
        let table = VectorMatrix.signTable(query, words: matrix.words)
        let code = VectorCode(document)
        var viaTable: Float = 0
        for w in 0..<matrix.words {
            for k in 0..<8 { viaTable += table[(w * 8 + k) * 256 + Int((code.signs[w] >> UInt64(8 * k)) & 0xFF)] }
        }
        let direct = zip(query, document).reduce(Float(0)) { $0 + ($1.1 >= 0 ? $1.0 : -$1.0) }
        #expect(abs(viaTable - direct) < 1e-4)
    }

    @Test("two-stage search finds the exact nearest neighbours of near-duplicate queries among 2000 random vectors")
    func nearest() {
        var seed: UInt64 = 42
        var matrix = VectorMatrix(dimensions: 256)
        var vectors: [[Float]] = []
        for id in 0..<2000 {
            let v = Self.randomUnit(256, seed: &seed)
            vectors.append(v)
            matrix.append(chunkId: Int64(id + 10), code: VectorCode(v))
        }
        for target in [0, 777, 1999] {
            // A query close to one stored vector: that vector must come first, by a margin.
            let noise = Self.randomUnit(256, seed: &seed)
            var query = zip(vectors[target], noise).map { $0 * 0.9 + $1 * 0.3 }
            let norm = query.reduce(0) { $0 + $1 * $1 }.squareRoot()
            query = query.map { $0 / norm }
            let hits = matrix.nearest(query, limit: 5, candidates: 100)
            #expect(hits.count == 5)
            #expect(hits.first?.row == target)
            let exact = zip(vectors[target], query).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            #expect(abs((hits.first?.score ?? 0) - exact) < 0.01)
            #expect(zip(hits, hits.dropFirst()).allSatisfy { $0.score >= $1.score })
        }
        // Rows outside the allowed mask never come back.
        var mask = [Bool](repeating: false, count: 2000)
        mask[5] = true
        mask[6] = true
        let limited = matrix.nearest(vectors[0], limit: 5, candidates: 100, allowed: mask)
        #expect(Set(limited.map(\.row)) == [5, 6])
    }
}
