import CEmbeddingGemmaKernels
import EmbeddingGemma
import Foundation
import Testing

/// The streamed kernels (`eg_gemm_streamed_avx2` / `_avx512`: weights decoded in registers, a few
/// input rows) against the Swift decoders: each weight they decode is ggml's float bit for bit, and
/// their products equal the decoded matrix's product. Each variant runs where the CPU has it (AVX-512
/// is skipped on an AVX2-only CPU, and the note of a session on one says so).
@Suite("Streamed quantized products", .enabled(if: eg_avx2_fma_available() != 0))
struct StreamedKernelTests {
    /// A weight matrix in one encoding: its bytes, rows, row length and decoded floats.
    struct Matrix {
        let type: GGMLType
        let bytes: [UInt8]
        let rows: Int
        let columns: Int
        let decoded: [Float]
        var rowBytes: Int { bytes.count / rows }
    }

    /// Q8_0 and Q4_0 from this engine's encoder on random values; Q5_0, Q4_K and Q6_K from the
    /// gguf-py fixture's blocks (as rows of one super-block or two blocks).
    static func matrix(_ name: String) throws -> Matrix {
        if name == "Q8_0" || name == "Q4_0" {
            let type: GGMLType = name == "Q8_0" ? .q8_0 : .q4_0
            let rows = 7, columns = 128
            var seed: UInt64 = 11
            let values = (0..<(rows * columns)).map { _ in
                seed = seed &* 6364136223846793005 &+ 1442695040888963407
                return Float(Int(seed >> 40) % 20001 - 10000) / 3000
            }
            let bytes = name == "Q8_0" ? try BlockQuantization.quantizeQ8_0(values) : try BlockQuantization.quantizeQ4_0(values)
            let decoded = try bytes.withUnsafeBytes { try BlockQuantization.dequantize($0, count: values.count, type: type) }
            return Matrix(type: type, bytes: bytes, rows: rows, columns: columns, decoded: decoded)
        }
        let fixture = try #require(BlockDecodingTests.fixture.cases.first { $0.type == name })
        let type = try #require(GGMLType(rawValue: fixture.ggml_type))
        let bytes = try #require(Data(base64Encoded: fixture.bytes))
        let columns = type.blockSize == 256 ? 256 : 64
        let decoded = try bytes.withUnsafeBytes { try BlockQuantization.dequantize($0, count: fixture.count, type: type) }
        return Matrix(type: type, bytes: [UInt8](bytes), rows: fixture.count / columns, columns: columns, decoded: decoded)
    }

    static let types = ["Q8_0", "Q4_0", "Q5_0", "Q4_K", "Q6_K"]

    typealias Kernel = @convention(c) (UnsafePointer<Float>?, Int, Int32, UnsafeRawPointer?, Int32, Int, Int32, Int32,
                                       UnsafeMutablePointer<Float>?, Int) -> Int32

    /// The variants this CPU runs.
    static var kernels: [(String, Kernel)] {
        var kernels: [(String, Kernel)] = [("AVX2", eg_gemm_streamed_avx2)]
        if eg_avx512_available() != 0 { kernels.append(("AVX-512", eg_gemm_streamed_avx512)) }
        return kernels
    }

    /// `y = x · decode(w)ᵀ` by `kernel`, for `m` rows of `x`.
    static func product(_ kernel: Kernel, _ matrix: Matrix, _ x: [Float], m: Int) -> (handled: Int32, y: [Float]) {
        var y = [Float](repeating: .nan, count: m * matrix.rows)
        let handled = matrix.bytes.withUnsafeBytes { raw in
            kernel(x, matrix.columns, Int32(m), raw.baseAddress, Int32(matrix.type.rawValue), matrix.rowBytes,
                   Int32(matrix.rows), Int32(matrix.columns), &y, matrix.rows)
        }
        return (handled, y)
    }

    @Test("one-hot input rows read back every decoded weight bit for bit", arguments: types)
    func decodesExactly(name: String) throws {
        let matrix = try Self.matrix(name)
        let zeros = matrix.decoded.filter { $0 == 0 }.count
        #expect(zeros < matrix.decoded.count / 4, "\(name): \(zeros) zero weights; the check needs values")
        for (variant, kernel) in Self.kernels {
            // 4 rows at a time, each a unit vector: y[i][j] is weight (j, p) exactly (the other terms are 0).
            var mismatches = 0
            for first in stride(from: 0, to: matrix.columns, by: 4) {
                var x = [Float](repeating: 0, count: 4 * matrix.columns)
                for i in 0..<4 { x[i * matrix.columns + first + i] = 1 }
                let (handled, y) = Self.product(kernel, matrix, x, m: 4)
                #expect(handled == 1)
                for i in 0..<4 {
                    for j in 0..<matrix.rows {
                        let got = y[i * matrix.rows + j], want = matrix.decoded[j * matrix.columns + first + i]
                        // A weight of −0 reads back as +0 (the sum starts at +0); any other value must match bit for bit.
                        if got.bitPattern != want.bitPattern, !(got == 0 && want == 0) { mismatches += 1 }
                    }
                }
            }
            #expect(mismatches == 0, "\(name) \(variant): \(mismatches) weights differ from the Swift decoder's")
        }
    }

    @Test("products for 1 to 6 input rows equal the decoded matrix's product", arguments: types)
    func products(name: String) throws {
        let matrix = try Self.matrix(name)
        for (variant, kernel) in Self.kernels {
            for m in 1...6 {
                var seed = UInt64(3 + m)
                let x = (0..<(m * matrix.columns)).map { _ in
                    seed = seed &* 6364136223846793005 &+ 1442695040888963407
                    return Float(Int(seed >> 40) % 2001 - 1000) / 1000
                }
                let (handled, y) = Self.product(kernel, matrix, x, m: m)
                #expect(handled == 1)
                let expected = BlockDecodingTests.product(x, rows: m, matrix.decoded, outputs: matrix.rows, depth: matrix.columns)
                let scale = max(1, expected.map(abs).max() ?? 0)
                let worst = zip(y, expected).map { abs(Double($0) - $1) }.max() ?? .infinity
                #expect(worst <= 1e-5 * scale, "\(name) \(variant), \(m) rows: off by \(worst) (largest value \(scale))")
            }
        }
    }

    @Test("types it does not decode in registers, and rows of part of a block, are refused")
    func refuses() throws {
        let x = [Float](repeating: 1, count: 256)
        var y = [Float](repeating: 0, count: 4)
        let bytes = [UInt8](repeating: 0, count: 4096)
        // Q4_1 (3) and Q5_K (13) go to the panel kernel; 48 values are not whole Q8_0 blocks.
        for (variant, kernel) in Self.kernels {
            #expect(kernel(x, 256, 1, bytes, 3, 160, 1, 256, &y, 1) == 0, "\(variant)")
            #expect(kernel(x, 256, 1, bytes, 13, 176, 1, 256, &y, 1) == 0, "\(variant)")
            #expect(kernel(x, 48, 1, bytes, 8, 51, 1, 48, &y, 1) == 0, "\(variant)")
        }
        #expect(eg_streamed_block_size(14) == 256 && eg_streamed_block_size(6) == 32 && eg_streamed_block_size(3) == 0)
    }
}
