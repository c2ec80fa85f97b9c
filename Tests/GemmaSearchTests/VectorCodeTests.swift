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

    @Test("sign codes round-trip through their stored bytes; a wrong size is refused")
    func roundTrip() throws {
        var seed: UInt64 = 1
        let v = Self.randomUnit(768, seed: &seed)
        let code = VectorCode(v)
        let back = try #require(VectorCode(signBytes: code.signBytes, dimensions: 768))
        #expect(back == code)
        for i in 0..<768 {
            #expect(((code.signs[i / 64] >> UInt64(i % 64)) & 1 == 1) == (v[i] >= 0))
        }
        #expect(VectorCode(signBytes: code.signBytes.dropLast(), dimensions: 768) == nil)
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

    @Test("the bit-plane kernel ranks rows as Σ q·sign(d) with the query quantized to 6 bits", arguments: [130, 768])
    func signScores(dimensions: Int) {
        var seed: UInt64 = 9
        let query = Self.randomUnit(dimensions, seed: &seed)
        var matrix = VectorMatrix(dimensions: dimensions)
        var documents: [[Float]] = []
        for id in 0..<50 {
            documents.append(Self.randomUnit(dimensions, seed: &seed))
            matrix.append(chunkId: Int64(id), signs: VectorCode.signWords(documents[id]))
        }
        let scores = matrix.signScores(query)
        // The kernel's integer score is Σ (u − c)·sign(d) plus a constant of the query, u the
        // quantized query and c its midpoint: compare differences between rows with that sum.
        let largest = query.map(abs).max() ?? 1
        let levels = Float((1 << VectorMatrix.queryBits) - 1)
        let quantized = query.map { ((($0 / largest) + 1) / 2 * levels).rounded() - levels / 2 }
        let direct = documents.map { document in zip(quantized, document).reduce(Float(0)) { $0 + ($1.1 >= 0 ? $1.0 : -$1.0) } }
        for row in documents.indices {
            #expect(abs(Float(scores[row] - scores[0]) - (direct[row] - direct[0])) < 1e-3, "row \(row)")
        }
        let exact = documents.map { zip(query, $0).reduce(Float(0)) { $0 + ($1.1 >= 0 ? $1.0 : -$1.0) } }
        let best = exact.indices.max { exact[$0] < exact[$1] } ?? 0
        #expect(scores.indices.max { scores[$0] < scores[$1] } == best)
    }

    @Test("the first stage keeps the exact nearest neighbours of near-duplicate queries among 2000 random vectors")
    func candidates() {
        var seed: UInt64 = 42
        var matrix = VectorMatrix(dimensions: 256)
        var vectors: [[Float]] = []
        for id in 0..<2000 {
            let v = Self.randomUnit(256, seed: &seed)
            vectors.append(v)
            matrix.append(chunkId: Int64(id + 10), signs: VectorCode.signWords(v))
        }
        for target in [0, 777, 1999] {
            // A query close to one stored vector: it must be among the candidates.
            let noise = Self.randomUnit(256, seed: &seed)
            var query = zip(vectors[target], noise).map { $0 * 0.9 + $1 * 0.3 }
            let norm = query.reduce(0) { $0 + $1 * $1 }.squareRoot()
            query = query.map { $0 / norm }
            let rows = matrix.candidates(query, count: 20)
            #expect(rows.count == 20)
            #expect(rows.contains(target))
        }
        // Rows outside the allowed mask never come back.
        var mask = [Bool](repeating: false, count: 2000)
        mask[5] = true
        mask[6] = true
        #expect(Set(matrix.candidates(vectors[0], count: 5, allowed: mask)) == [5, 6])
        var many = [Bool](repeating: true, count: 2000)
        many[0] = false
        #expect(!matrix.candidates(vectors[0], count: 100, allowed: many).contains(0))
    }

    @Test("above the coarse threshold, the histogram pass keeps near-duplicates and honours the mask")
    func coarsePass() {
        var generator = SystemRandomNumberGenerator()
        let dimensions = 128
        var matrix = VectorMatrix(dimensions: dimensions)
        var kept: [[Float]] = []
        for id in 0..<(VectorMatrix.coarseRows + 1000) {
            let v = (0..<dimensions).map { _ in Float.random(in: -1...1, using: &generator) }
            if id % 20_000 == 7 { kept.append(v) }
            matrix.append(chunkId: Int64(id), signs: VectorCode.signWords(v))
        }
        for (n, target) in kept.enumerated() {
            let query = target.map { $0 + Float.random(in: -0.2...0.2, using: &generator) }
            let rows = matrix.candidates(query, count: 50)
            #expect(rows.count == 50)
            #expect(rows.contains(n * 20_000 + 7), "near-duplicate \(n)")
        }
        let coarse = matrix.coarse(kept[0], keep: 100, allowed: nil)
        #expect(coarse.count == 100 && coarse.contains(7))
        var mask = [Bool](repeating: true, count: matrix.count)
        mask[7] = false
        #expect(!matrix.candidates(kept[0], count: 50, allowed: mask).contains(7))
    }
}
