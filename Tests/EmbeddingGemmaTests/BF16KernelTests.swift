import CEmbeddingGemmaKernels
import Testing
@testable import EmbeddingGemma
import EmbeddingGemmaTestSupport

/// The bf16 product kernel (`eg_gemm_bf16`, AVX512-BF16): its input rounding is the engine's bf16
/// encoding bit for bit, and its products equal the product of the rounded operands in double
/// precision up to float32 summation. Runs where the CPU has AVX512-BF16 (not on AVX2-only or
/// older AVX-512 CPUs; the session note says which ran).
@Suite("bf16 products (AVX512-BF16)", .enabled(if: eg_avx512bf16_available() != 0))
struct BF16KernelTests {
    @Test("inputs are rounded as the engine encodes bf16 weights (nearest even), bit for bit")
    func rounding() {
        var seed: UInt64 = 5
        var values = TinyModel.random(32 * 64, seed: &seed, scale: 1000)
        // Exact ties (low half 0x8000) both ways, zeros, tiny and huge values.
        values[0] = Float(bitPattern: 0x3F80_8000)
        values[1] = Float(bitPattern: 0x3F81_8000)
        values[2] = -0.0
        values[3] = 1e-30
        values[4] = -3e38
        var out = [UInt16](repeating: 0, count: values.count)
        eg_round_to_bf16(values, 64, 32, 64, &out)
        let mismatches = zip(values, out).filter { BlockQuantization.brainFloat($0) != $1 }.count
        #expect(mismatches == 0, "\(mismatches) of \(values.count) values round differently")
    }

    @Test("products equal the rounded operands' product, for short and long inputs and ragged edges",
          arguments: [(1, 7, 32), (3, 6, 64), (5, 13, 96), (17, 50, 768), (300, 20, 128)])
    func products(m: Int, n: Int, k: Int) {
        var seed = UInt64(m * 131 + n)
        let x = TinyModel.random(m * k, seed: &seed, scale: 3)
        let wFloats = TinyModel.random(n * k, seed: &seed, scale: 0.5)
        let w = wFloats.map { BlockQuantization.brainFloat($0) }
        var y = [Float](repeating: .nan, count: m * n)
        let done = eg_gemm_bf16(x, k, Int32(m), w, k, Int32(n), Int32(k), &y, n)
        #expect(done == 1)
        let rounded = x.map { BlockQuantization.float(brainFloat: BlockQuantization.brainFloat($0)) }
        let expected = BlockDecodingTests.product(rounded, rows: m, w.map { BlockQuantization.float(brainFloat: $0) }, outputs: n, depth: k)
        let scale = expected.map(abs).max() ?? 0
        let worst = zip(y, expected).map { abs(Double($0) - $1) }.max() ?? .infinity
        #expect(worst <= 1e-5 * max(scale, 1), "\(m)×\(n)×\(k): off by \(worst) (largest \(scale))")
    }
}
