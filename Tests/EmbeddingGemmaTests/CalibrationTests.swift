import Foundation
import Testing
@testable import EmbeddingGemma
import EmbeddingGemmaTestSupport

@Suite("Quantization with calibration: GPTQ, weighted scales, importance matrices")
struct CalibrationTests {
    /// Inputs whose columns move together and differ in size, like a layer's activations:
    /// `x = z · M` for independent `z`, with a few large columns.
    static func correlatedInputs(rows: Int, width: Int, seed: UInt64) -> [Float] {
        var state = seed
        let z = TinyModel.random(rows * width, seed: &state, scale: 1)
        let mixing = TinyModel.random(width * width, seed: &state, scale: 0.4)
        var x = [Float](repeating: 0, count: rows * width)
        for r in 0..<rows {
            for c in 0..<width {
                var sum: Float = 0
                for k in 0..<width { sum += z[r * width + k] * mixing[k * width + c] }
                x[r * width + c] = sum * (c % 17 == 0 ? 6 : 1)
            }
        }
        return x
    }

    /// `Σ xᵀx / rows`, full (both triangles), as an importance matrix input.
    static func input(_ x: [Float], rows: Int, width: Int) -> ImportanceMatrix.Input {
        var gram = [Float](repeating: 0, count: width * width)
        for r in 0..<rows {
            for i in 0..<width {
                for j in 0..<width { gram[i * width + j] += x[r * width + i] * x[r * width + j] / Float(rows) }
            }
        }
        return ImportanceMatrix.Input(width: width, diagonal: (0..<width).map { gram[$0 * width + $0] }, gram: gram)
    }

    /// `‖x · (W − Ŵ)ᵀ‖²` over all rows of `x`: the output error a quantization leaves.
    static func outputError(_ x: [Float], rows: Int, weights: [Float], _ matrix: WeightMatrix) -> Double {
        var decoded = [Float](repeating: 0, count: matrix.rows * matrix.columns)
        decoded.withUnsafeMutableBufferPointer { matrix.decode(rows: 0..<matrix.rows, into: $0.baseAddress!) }
        var total = 0.0
        for r in 0..<rows {
            for o in 0..<matrix.rows {
                var e = 0.0
                for c in 0..<matrix.columns {
                    e += Double(x[r * matrix.columns + c]) * Double(weights[o * matrix.columns + c] - decoded[o * matrix.columns + c])
                }
                total += e * e
            }
        }
        return total
    }

    @Test("Cholesky factor and triangular inverse reproduce the matrix and the identity")
    func linearAlgebra() {
        let n = 150  // more than two blocks of 64: exercises the trsm/syrk updates
        var seed: UInt64 = 5
        let b = TinyModel.random(n * n, seed: &seed, scale: 1).map(Double.init)
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n {
                var sum = i == j ? Double(n) : 0
                for k in 0..<n { sum += b[i * n + k] * b[j * n + k] }
                a[i * n + j] = sum
            }
        }
        var l = a
        let factored = l.withUnsafeMutableBufferPointer { LinearAlgebra.choleskyLower($0.baseAddress!, n: n) }
        #expect(factored)
        var worst = 0.0
        for i in 0..<n {
            for j in 0...i {
                var sum = 0.0
                for k in 0...j { sum += l[i * n + k] * l[j * n + k] }
                worst = max(worst, abs(sum - a[i * n + j]) / a[i * n + i])
            }
        }
        #expect(worst < 1e-12, "L·Lᵀ differs from A by \(worst)")
        var inverse = [Double](repeating: .nan, count: n * n)
        l.withUnsafeBufferPointer { lp in
            inverse.withUnsafeMutableBufferPointer { LinearAlgebra.invertLower(lp.baseAddress!, n: n, into: $0.baseAddress!) }
        }
        var identityError = 0.0
        for i in 0..<n {
            for j in 0..<n {
                var sum = 0.0
                for k in 0..<n where k <= i && j <= k { sum += l[i * n + k] * inverse[k * n + j] }
                identityError = max(identityError, abs(sum - (i == j ? 1 : 0)))
            }
        }
        #expect(identityError < 1e-12, "L·L⁻¹ differs from I by \(identityError)")
        // Not positive definite: a clear false, not garbage.
        var indefinite = a
        indefinite[(n / 2) * n + n / 2] = -1
        #expect(!indefinite.withUnsafeMutableBufferPointer { LinearAlgebra.choleskyLower($0.baseAddress!, n: n) })
    }

    @Test("GPTQ's factor U satisfies UᵀU·(H + λI) = I")
    func inverseFactor() throws {
        let width = 64, rows = 400
        let x = Self.correlatedInputs(rows: rows, width: width, seed: 9)
        let input = Self.input(x, rows: rows, width: width)
        let gram = try #require(input.gram)
        let u = try #require(GPTQ.inverseFactor(gram, n: width))
        let damp = GPTQ.dampening * (0..<width).reduce(0.0) { $0 + Double(gram[$1 * width + $1]) } / Double(width)
        var worst = 0.0
        for i in 0..<width {
            for j in 0..<width {
                var sum = 0.0
                for k in 0..<width {
                    var hinv = 0.0  // (UᵀU)[i][k]
                    for p in 0...min(i, k) { hinv += Double(u[p * width + i]) * Double(u[p * width + k]) }
                    sum += hinv * (Double(gram[k * width + j]) + (k == j ? damp : 0))
                }
                worst = max(worst, abs(sum - (i == j ? 1 : 0)))
            }
        }
        #expect(worst < 1e-3, "UᵀU·H differs from I by \(worst)")
        for i in 0..<width { for j in 0..<i { #expect(u[i * width + j] == 0) } }
        #expect(GPTQ.inverseFactor([Float](repeating: .nan, count: 4), n: 2) == nil)
    }

    @Test("GPTQ leaves a smaller output error than rounding to nearest, in ordinary blocks", arguments: [GGMLType.q4_0, .q8_0])
    func gptqBeatsNearest(type: GGMLType) {
        let rows = 48, width = 96, samples = 512
        var seed: UInt64 = 77
        let weights = TinyModel.random(rows * width, seed: &seed, scale: 0.5)
        let x = Self.correlatedInputs(rows: samples, width: width, seed: 3)
        let plan = GPTQ.Plan(Self.input(x, rows: samples, width: width))
        #expect(plan.factor != nil)
        let nearest = weights.withUnsafeBufferPointer { WeightMatrix(encoding: $0.baseAddress!, rows: rows, columns: width, as: type) }
        let gptq = weights.withUnsafeBufferPointer {
            WeightMatrix(encoding: $0.baseAddress!, rows: rows, columns: width, as: type, plan: plan)
        }
        #expect(gptq.type == type && gptq.byteCount == nearest.byteCount)
        let nearestError = Self.outputError(x, rows: samples, weights: weights, nearest)
        let gptqError = Self.outputError(x, rows: samples, weights: weights, gptq)
        // Measured: Q4_0 about half the error of rounding to nearest.
        #expect(gptqError < 0.8 * nearestError, "\(type): GPTQ \(gptqError) vs nearest \(nearestError)")
        // Only the diagonal known: weighted scales, still no worse than nearest.
        let diagonalOnly = GPTQ.Plan(ImportanceMatrix.Input(width: width, diagonal: plan.diagonal, gram: nil))
        let weighted = weights.withUnsafeBufferPointer {
            WeightMatrix(encoding: $0.baseAddress!, rows: rows, columns: width, as: type, plan: diagonalOnly)
        }
        #expect(Self.outputError(x, rows: samples, weights: weights, weighted) <= nearestError * 1.0001)
    }

    @Test("weighted block scales: never worse than the plain scale under their weights; zero blocks stay zero")
    func weightedScales() {
        var seed: UInt64 = 12
        for trial in 0..<200 {
            let x = TinyModel.random(32, seed: &seed, scale: 1)
            let w = TinyModel.random(32, seed: &seed, scale: 1).map { abs($0) + (trial % 2 == 0 ? 0 : 5) }
            for type in [GGMLType.q4_0, .q8_0] {
                func error(_ bytes: [UInt8]) -> Float {
                    let decoded = bytes.withUnsafeBytes {
                        type == .q4_0 ? try! BlockQuantization.dequantizeQ4_0($0, count: 32) : try! BlockQuantization.dequantizeQ8_0($0, count: 32)
                    }
                    return (0..<32).reduce(0) { $0 + w[$1] * (x[$1] - decoded[$1]) * (x[$1] - decoded[$1]) }
                }
                var weighted = [UInt8](repeating: 0, count: type.blockBytes)
                x.withUnsafeBufferPointer { xp in
                    w.withUnsafeBufferPointer { wp in
                        weighted.withUnsafeMutableBytes {
                            BlockQuantization.encodeWeighted(xp.baseAddress!, weights: wp.baseAddress!, count: 32, as: type, into: $0.baseAddress!)
                        }
                    }
                }
                let plain = type == .q4_0 ? try! BlockQuantization.quantizeQ4_0(x) : try! BlockQuantization.quantizeQ8_0(x)
                #expect(error(weighted) <= error(plain) * 1.0001, "\(type) trial \(trial)")
            }
        }
        let zeros = [Float](repeating: 0, count: 32)
        let ones = [Float](repeating: 1, count: 32)
        let scale = zeros.withUnsafeBufferPointer { z in
            ones.withUnsafeBufferPointer { BlockQuantization.weightedScale(z.baseAddress!, weights: $0.baseAddress!, type: .q4_0) }
        }
        #expect(scale == 0)
    }

    @Test("synthetic calibration text: deterministic, ordinary pieces only, and an importance matrix from it")
    func syntheticCalibration() throws {
        let model = try EmbeddingModel(path: TinyModelTests.folder)
        let first = SyntheticText.generate(tokenizer: model.tokenizer, count: 6, seed: 1)
        #expect(first == SyntheticText.generate(tokenizer: model.tokenizer, count: 6, seed: 1))
        #expect(first != SyntheticText.generate(tokenizer: model.tokenizer, count: 6, seed: 2))
        #expect(first.count == 6 && first.allSatisfy { !$0.isEmpty })
        for text in first {
            let ids = model.tokenizer.encode(text, addSpecialTokens: false)
            #expect(!ids.contains(model.tokenizer.bosTokenId) && !ids.contains(model.tokenizer.eosTokenId) && !ids.contains(model.tokenizer.padTokenId))
        }
        let texts = ["hello world", "a b c d", "the end"]
        let importance = try model.importanceMatrix(calibration: texts)
        let tokens = try texts.reduce(0) { $0 + (try model.tokenize($1).count) }
        #expect(importance.tokenCount == tokens)
        #expect(importance.fits(encoder: model.encoder, head: model.head))
        let attention = try #require(importance.input(layer: 0, site: .attentionInput))
        #expect(attention.width == TinyModel.hidden && attention.diagonal.allSatisfy { $0 > 0 })
        // The Gram matrix is symmetric (both triangles filled from the upper one).
        let gram = try #require(attention.gram)
        for i in 0..<attention.width { for j in 0..<attention.width { #expect(gram[i * attention.width + j] == gram[j * attention.width + i]) } }
        #expect(try model.importanceMatrix().tokenCount > 1_000)
        #expect(throws: EmbeddingGemmaError.self) { try model.importanceMatrix(calibration: ["", ""]) }
    }
}
