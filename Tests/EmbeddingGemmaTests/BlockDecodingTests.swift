import CEmbeddingGemmaKernels
import EmbeddingGemma
import Foundation
import Testing

/// The k-quant and legacy block decoders against the `gguf` package's dequantization
/// (fixture written by scripts/make-kquant-fixture.py): every float bit for bit.
@Suite("Block decoding against gguf-py")
struct BlockDecodingTests {
    struct Fixture: Decodable {
        struct Case: Decodable {
            let type: String
            let ggml_type: UInt32
            let count: Int
            let bytes: String
            let float_bits: String
        }
        let cases: [Case]
    }

    static let fixture: Fixture = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/block-decoding.json")
        // A missing or broken fixture fails every test that reads it.
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }()

    /// `x · wᵀ` in double precision for `x` `[rows × depth]` and `w` `[outputs × depth]`: what the
    /// kernels' products are checked against.
    static func product(_ x: [Float], rows: Int, _ w: [Float], outputs: Int, depth: Int) -> [Double] {
        var out = [Double](repeating: 0, count: rows * outputs)
        for i in 0..<rows {
            for j in 0..<outputs {
                out[i * outputs + j] = (0..<depth).reduce(0.0) { $0 + Double(x[i * depth + $1]) * Double(w[j * depth + $1]) }
            }
        }
        return out
    }

    @Test("each encoding decodes to gguf-py's floats exactly", arguments: ["Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"])
    func matchesReference(name: String) throws {
        let fixture = try #require(Self.fixture.cases.first { $0.type == name })
        let type = try #require(GGMLType(rawValue: fixture.ggml_type))
        let bytes = try #require(Data(base64Encoded: fixture.bytes))
        let expected = try #require(Data(base64Encoded: fixture.float_bits))
        #expect(expected.count == fixture.count * 4)
        let decoded = try bytes.withUnsafeBytes { raw in try BlockQuantization.dequantize(raw, count: fixture.count, type: type) }
        var mismatches = 0
        var first: String?
        for i in 0..<fixture.count {
            let want = expected.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) }
            if decoded[i].bitPattern != want {
                mismatches += 1
                if first == nil { first = "value \(i): \(decoded[i]) vs \(Float(bitPattern: want))" }
            }
        }
        #expect(mismatches == 0, "\(name): \(mismatches) of \(fixture.count) differ; first \(first ?? "")")
        // The vectorised C decoders the products use give the same floats.
        var fromC = [Float](repeating: .nan, count: fixture.count)
        let handled = bytes.withUnsafeBytes { raw in
            fromC.withUnsafeMutableBufferPointer { out in
                eg_decode_kquant_rows(raw.baseAddress, Int32(type.rawValue), 1, Int32(fixture.count), out.baseAddress)
            }
        }
        #expect(handled == 1)
        #expect(zip(fromC, decoded).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(name): the C decoder differs from the Swift one")
        #expect(decoded.contains { $0 != 0 }, "the fixture's values are not all zero")
    }

    @Test("the panel products on these blocks (AVX2, and AVX-512 where the CPU has it) equal the decoded matrix's product",
          arguments: ["Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"])
    func decodingKernel(name: String) throws {
        guard eg_avx2_fma_available() != 0 else { return }
        let fixture = try #require(Self.fixture.cases.first { $0.type == name })
        let type = try #require(GGMLType(rawValue: fixture.ggml_type))
        let bytes = try #require(Data(base64Encoded: fixture.bytes))
        // The fixture's blocks as a matrix of n rows of k values (k: two blocks, or one super-block).
        let k = type.blockSize == 256 ? 256 : 64, n = fixture.count / k, m = 5
        let decoded = try bytes.withUnsafeBytes { raw in try BlockQuantization.dequantize(raw, count: fixture.count, type: type) }
        var seed: UInt64 = 7
        let x = (0..<(m * k)).map { _ in
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int(seed >> 40) % 2001 - 1000) / 1000
        }
        let expected = Self.product(x, rows: m, decoded, outputs: n, depth: k)
        let rowBytes = bytes.count / n
        var products = [("AVX2", eg_gemm_decoded_avx2)]
        if eg_avx512_available() != 0 { products.append(("AVX-512", eg_gemm_decoded_avx512)) }
        for (kernel, product) in products {
            var y = [Float](repeating: .nan, count: m * n)
            let handled = bytes.withUnsafeBytes { raw in
                product(x, Int32(m), raw.baseAddress, Int32(type.rawValue), rowBytes, Int32(n), Int32(k), &y, n)
            }
            #expect(handled == 1, "\(name) \(kernel)")
            let scale = expected.map(abs).max() ?? 1
            let worst = zip(y, expected).map { abs(Double($0) - $1) }.max() ?? .infinity
            #expect(worst <= 1e-5 * max(scale, 1), "\(name) \(kernel): off by \(worst) (largest value \(scale))")
        }
    }

    @Test("a wrong byte count or an encoding the engine cannot read is a clear error")
    func badInput() {
        #expect(throws: EmbeddingGemmaError.self) {
            try [UInt8](repeating: 0, count: 100).withUnsafeBytes { try BlockQuantization.dequantize($0, count: 256, type: .q4_K) }
        }
        #expect(throws: EmbeddingGemmaError.self) {
            try [UInt8](repeating: 0, count: 84).withUnsafeBytes { try BlockQuantization.dequantize($0, count: 256, type: .q2_K) }
        }
    }
}
