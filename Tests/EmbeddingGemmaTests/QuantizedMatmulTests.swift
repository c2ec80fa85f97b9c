import CEmbeddingGemmaKernels
import Foundation
import Testing
@testable import EmbeddingGemma
import EmbeddingGemmaTestSupport

@Suite("Quantized weights and products")
struct QuantizedMatmulTests {
    static let rows = 80      // output features
    static let columns = 96   // input features: three blocks of 32

    static func weights() -> [Float] {
        var seed: UInt64 = 21
        return TinyModel.random(rows * columns, seed: &seed, scale: 0.8)
    }

    /// `input · decode(weight)ᵀ` in double precision: what every path must approximate.
    static func reference(_ input: [Float], rows m: Int, _ weight: WeightMatrix) -> [Double] {
        var decoded = [Float](repeating: 0, count: weight.rows * weight.columns)
        decoded.withUnsafeMutableBufferPointer { weight.decode(rows: 0..<weight.rows, into: $0.baseAddress!) }
        var out = [Double](repeating: 0, count: m * weight.rows)
        for i in 0..<m {
            for j in 0..<weight.rows {
                var sum = 0.0
                for p in 0..<weight.columns { sum += Double(input[i * weight.columns + p]) * Double(decoded[j * weight.columns + p]) }
                out[i * weight.rows + j] = sum
            }
        }
        return out
    }

    static func product(_ input: [Float], rows m: Int, _ weight: WeightMatrix) -> [Float] {
        var out = [Float](repeating: .nan, count: m * weight.rows)
        var scratch = [Float](repeating: 0, count: weight.rows * weight.columns)
        input.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { y in
                scratch.withUnsafeMutableBufferPointer { s in
                    Matmul.linear(x.baseAddress!, rows: m, weight: weight, into: y.baseAddress!, scratch: s.baseAddress!)
                }
            }
        }
        return out
    }

    @Test("encodings round-trip within their precision", arguments: [GGMLType.f32, .f16, .bf16, .q8_0, .q4_0])
    func roundTrip(type: GGMLType) {
        let values = Self.weights()
        let matrix = values.withUnsafeBufferPointer { WeightMatrix(encoding: $0.baseAddress!, rows: Self.rows, columns: Self.columns, as: type) }
        #expect(matrix.byteCount == Self.rows * (type.rowBytes(elements: Self.columns) ?? -1))
        var decoded = [Float](repeating: 0, count: values.count)
        decoded.withUnsafeMutableBufferPointer { matrix.decodeAll(into: $0.baseAddress!) }
        // Worst error relative to each block's largest magnitude.
        let bound: Float = switch type {
        case .f32: 0
        case .f16: 1.0 / 2048
        case .bf16: 1.0 / 256
        case .q8_0: 0.5 / 127 + 1.0 / 2048
        default: 1.0 / 8 + 1.0 / 2048
        }
        for block in stride(from: 0, to: values.count, by: 32) {
            let scale = values[block..<(block + 32)].map(abs).max() ?? 1
            for i in block..<(block + 32) {
                #expect(abs(decoded[i] - values[i]) <= bound * scale + 1e-12, "\(type) element \(i)")
            }
        }
        // Re-encoding decoded values is lossless for the block formats (same scales, same codes).
        if type == .q8_0 || type == .q4_0 {
            let again = decoded.withUnsafeBufferPointer { WeightMatrix(encoding: $0.baseAddress!, rows: Self.rows, columns: Self.columns, as: type) }
            #expect(memcmp(again.bytes, matrix.bytes, matrix.byteCount) == 0)
        }
    }

    @Test("bfloat16 rounds to nearest even")
    func brainFloatRounding() {
        #expect(BlockQuantization.brainFloat(1) == 0x3F80)
        #expect(BlockQuantization.brainFloat(Float(bitPattern: 0x3F80_8000)) == 0x3F80) // tie, even stays
        #expect(BlockQuantization.brainFloat(Float(bitPattern: 0x3F81_8000)) == 0x3F82) // tie, odd rounds up
        #expect(BlockQuantization.brainFloat(Float(bitPattern: 0x3F80_8001)) == 0x3F81)
        #expect(BlockQuantization.brainFloat(-2) == 0xC000)
    }

    @Test("products with quantized weights match the decoded weights, for short queries and batches",
          arguments: [GGMLType.q8_0, .q4_0, .f16, .bf16], [1, 3, 4, 5, 12, 16, 17, 70])
    func products(type: GGMLType, m: Int) {
        let values = Self.weights()
        let matrix = values.withUnsafeBufferPointer { WeightMatrix(encoding: $0.baseAddress!, rows: Self.rows, columns: Self.columns, as: type) }
        var seed: UInt64 = UInt64(m) &* 977
        let input = TinyModel.random(m * Self.columns, seed: &seed, scale: 2)
        // On an AVX512-BF16 CPU bf16 weights are multiplied in bf16: the input is rounded to bf16 first.
        let roundsInput = type == .bf16 && Matmul.useBF16Kernel
        let rounded = roundsInput ? input.map { BlockQuantization.float(brainFloat: BlockQuantization.brainFloat($0)) } : input
        let expected = Self.reference(rounded, rows: m, matrix)
        let got = Self.product(input, rows: m, matrix)
        let norm = (expected.map { $0 * $0 }.reduce(0, +) / Double(expected.count)).squareRoot()
        if roundsInput {
            // ... which moves the result by about bf16's precision (2⁻⁹), no more.
            let float32 = Self.reference(input, rows: m, matrix)
            let moved = zip(got, float32).map { abs(Double($0) - $1) }.max() ?? .infinity
            #expect(moved > 0 && moved <= 0.02 * norm, "bf16 m=\(m): \(moved) from the float32 product, output rms \(norm)")
        }
        // Every default path multiplies float32 activations (rounded to bf16 above) with the decoded weights.
        var worst = 0.0
        for (a, b) in zip(got, expected) { worst = max(worst, abs(Double(a) - b)) }
        #expect(worst <= 1e-5 * norm, "\(type) m=\(m): worst error \(worst), output rms \(norm)")
    }

    @Test("the embedding model's Q8_0/Q4_0 products go int8 where the CPU runs the int8 kernel: the reference int8 product bit for bit, for any number of rows",
          arguments: [GGMLType.q8_0, .q4_0], [5, 12, 70, 300])
    func int8Products(type: GGMLType, m: Int) {
        let values = Self.weights()
        let matrix = values.withUnsafeBufferPointer { WeightMatrix(encoding: $0.baseAddress!, rows: Self.rows, columns: Self.columns, as: type) }
        var seed: UInt64 = UInt64(m) &* 131
        let input = TinyModel.random(m * Self.columns, seed: &seed, scale: 2)
        var got = [Float](repeating: .nan, count: m * Self.rows), scratch = [Float](repeating: 0, count: 1)
        input.withUnsafeBufferPointer { x in
            got.withUnsafeMutableBufferPointer { y in
                Matmul.linear(x.baseAddress!, rows: m, weight: matrix, into: y.baseAddress!, scratch: &scratch, activations: .int8WhereFaster)
            }
        }
        guard Matmul.int8Kernel != nil else {
            // Without AVX-512 VNNI the float32 path runs, as for the generator.
            #expect(got == Self.product(input, rows: m, matrix))
            return
        }
        let q = Int8KernelTests.quantized(input, rows: m, k: Self.columns, for: type, eg_quantize_int8_reference)
        let weightBytes = Array(UnsafeRawBufferPointer(start: matrix.bytes, count: matrix.byteCount))
        let (status, expected) = Int8KernelTests.run(eg_gemm_int8_reference, q, m: m, weightBytes, type: type, rowBytes: matrix.rowBytes,
                                                     n: Self.rows, k: Self.columns, ldy: Self.rows)
        #expect(status == 1)
        #expect(got.map(\.bitPattern) == expected.map(\.bitPattern))
    }

    @Test("several products of one input (query/key/value, gate/up) equal the products one by one, bit for bit, whether or not the int8 input is shared",
          arguments: [[GGMLType.q8_0, .q8_0, .q8_0], [.q4_0, .q4_0], [.q8_0, .q4_0], [.f32, .q8_0]], [3, 70])
    func sharedInput(types: [GGMLType], m: Int) {
        let values = Self.weights()
        let matrices = types.enumerated().map { index, type in
            let scaled = values.map { $0 * Float(index + 1) }
            return scaled.withUnsafeBufferPointer { WeightMatrix(encoding: $0.baseAddress!, rows: Self.rows, columns: Self.columns, as: type) }
        }
        var seed: UInt64 = UInt64(m) &* 977
        let input = TinyModel.random(m * Self.columns, seed: &seed, scale: 2)
        var scratch = [Float](repeating: 0, count: Self.rows * Self.columns)
        var together = [[Float]](repeating: [Float](repeating: .nan, count: m * Self.rows), count: matrices.count)
        var alone = together
        input.withUnsafeBufferPointer { x in
            scratch.withUnsafeMutableBufferPointer { s in
                let outputs = (0..<matrices.count).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: m * Self.rows) }
                defer { outputs.forEach { $0.deallocate() } }
                Matmul.linear(x.baseAddress!, rows: m, products: Array(zip(matrices, outputs)), scratch: s.baseAddress!, activations: .int8WhereFaster)
                for i in matrices.indices { together[i] = Array(UnsafeBufferPointer(start: outputs[i], count: m * Self.rows)) }
                for i in matrices.indices {
                    Matmul.linear(x.baseAddress!, rows: m, weight: matrices[i], into: outputs[i], scratch: s.baseAddress!, activations: .int8WhereFaster)
                    alone[i] = Array(UnsafeBufferPointer(start: outputs[i], count: m * Self.rows))
                }
            }
        }
        for i in matrices.indices {
            #expect(together[i].map(\.bitPattern) == alone[i].map(\.bitPattern), "\(types) m=\(m): product \(i)")
            // And each is the product it should be, not just the same twice.
            let reference = Self.reference(input, rows: m, matrices[i])
            let worst = zip(together[i], reference).map { abs(Double($0) - $1) }.max() ?? .infinity
            let scale = reference.map(abs).max() ?? 0
            #expect(worst <= 0.02 * scale, "\(types) m=\(m): product \(i) off by \(worst) (largest \(scale))")
        }
    }

    @Test("quantization recipes pick the documented encodings")
    func recipes() {
        #expect(QuantizationType.mixed.type(for: .attention) == .q8_0)
        for role in [WeightRole.embedding, .feedForward, .head] { #expect(QuantizationType.mixed.type(for: role) == .q4_0) }
        for type in [QuantizationType.f32, .f16, .bf16, .q8_0, .q4_0] {
            for role in [WeightRole.embedding, .attention, .feedForward, .head] { #expect(type.type(for: role).rawValue == [.f32: 0, .f16: 1, .bf16: 30, .q8_0: 8, .q4_0: 2][type]) }
        }
        #expect(QuantizationType.q8_0.fileType == 7 && QuantizationType.q4_0.fileType == 2 && QuantizationType.bf16.fileType == 32)
    }
}
