import CEmbeddingGemmaKernels
import Testing
@testable import EmbeddingGemma

/// Every float32 product kernel this CPU runs, called directly, against a double-precision naive
/// product: AVX2 (4 × 3 blocks) and AVX-512 (4 × 6 blocks) where the CPU has them. Shapes cover
/// the edge blocks (rows not a multiple of 4, weight rows not a multiple of the block width,
/// more weight rows than one panel) and strided operands.
@Suite("Product kernels on this CPU")
struct KernelVariantTests {
    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int64(bitPattern: state) >> 40) / Float(1 << 23)
        }
    }

    /// `rows × columns` floats encoded row by row as `type` blocks.
    static func encode(_ values: [Float], rows: Int, columns: Int, as type: GGMLType) -> [UInt8] {
        let rowBytes = type.rowBytes(elements: columns) ?? 0
        var encoded = [UInt8](repeating: 0, count: rows * rowBytes)
        values.withUnsafeBufferPointer { source in
            encoded.withUnsafeMutableBytes { target in
                guard let s = source.baseAddress, let t = target.baseAddress else { return }
                for r in 0..<rows { BlockQuantization.encode(s + r * columns, count: columns, as: type, into: t + r * rowBytes) }
            }
        }
        return encoded
    }

    typealias Kernel = (UnsafePointer<Float>, Int, Int32, UnsafePointer<Float>, Int, Int32, Int32, UnsafeMutablePointer<Float>, Int) -> Void

    static var kernels: [(String, Kernel)] {
        var list: [(String, Kernel)] = []
        if eg_avx2_fma_available() != 0 { list.append(("AVX2", eg_gemm_nt_avx2)) }
        if eg_avx512_available() != 0 { list.append(("AVX-512", eg_gemm_nt_avx512)) }
        return list
    }

    @Test("float32 kernels equal the naive product", arguments: [(1, 1, 16), (3, 7, 32), (5, 13, 48), (9, 25, 768), (37, 200, 64), (64, 17, 3072)])
    func float32(m: Int, n: Int, k: Int) {
        let ldx = k + 16, ldw = k + 32, ldy = n + 5
        let x = Self.values(m * ldx, seed: UInt64(m * 31 + k)), w = Self.values(n * ldw, seed: UInt64(n * 17 + k))
        for (name, kernel) in Self.kernels {
            var y = [Float](repeating: .nan, count: m * ldy)
            x.withUnsafeBufferPointer { xb in
                w.withUnsafeBufferPointer { wb in
                    y.withUnsafeMutableBufferPointer { yb in
                        guard let xp = xb.baseAddress, let wp = wb.baseAddress, let yp = yb.baseAddress else { return }
                        kernel(xp, ldx, Int32(m), wp, ldw, Int32(n), Int32(k), yp, ldy)
                    }
                }
            }
            var worst: Double = 0
            for i in 0..<m {
                for j in 0..<n {
                    var exact: Double = 0
                    for p in 0..<k { exact += Double(x[i * ldx + p]) * Double(w[j * ldw + p]) }
                    worst = max(worst, abs(Double(y[i * ldy + j]) - exact) / max(1, abs(exact)))
                }
            }
            #expect(worst < 2e-5, "\(name) \(m)×\(n)×\(k): worst relative error \(worst)")
            // Padding columns of the output are never written.
            #expect(y[ldy - 1].isNaN, "\(name) wrote past n")
        }
    }

    @Test("the AVX-512 quantized product equals the AVX2 one on Q8_0 and Q4_0 weights",
          .enabled(if: eg_avx512_available() != 0, "this CPU has no AVX-512F"), arguments: [GGMLType.q8_0, .q4_0])
    func quantized(type: GGMLType) {
        let m = 7, n = 29, k = 768
        let x = Self.values(m * k, seed: 5), weights = Self.values(n * k, seed: 6)
        let encoded = Self.encode(weights, rows: n, columns: k, as: type)
        var a = [Float](repeating: 0, count: m * n), b = a
        x.withUnsafeBufferPointer { xb in
            encoded.withUnsafeBytes { wb in
                guard let xp = xb.baseAddress, let wp = wb.baseAddress else { return }
                eg_gemm_quantized_avx2(xp, Int32(m), wp, Int32(type.rawValue), Int32(n), Int32(k), &a, n)
                eg_gemm_quantized_avx512(xp, Int32(m), wp, Int32(type.rawValue), Int32(n), Int32(k), &b, n)
            }
        }
        for (p, q) in zip(a, b) { #expect(abs(p - q) <= 1e-4 * max(1, abs(p))) }
    }
}

@Suite("BLAS core classification")
struct BLASCoreTests {
    @Test("OpenBLAS core names: generic below AVX2, AVX-512 class for SkylakeX and later")
    func classification() {
        for core in ["Prescott", "Core2", "Nehalem", "Sandybridge", "Generic"] {
            #expect(ComputeEnvironment.isGeneric(blasCore: core), "\(core)")
        }
        for core in ["Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids"] {
            #expect(!ComputeEnvironment.isGeneric(blasCore: core), "\(core)")
        }
        #expect(ComputeEnvironment.usesAVX512(blasCore: "Cooperlake"))
        #expect(ComputeEnvironment.usesAVX512(blasCore: "SkylakeX"))
        #expect(!ComputeEnvironment.usesAVX512(blasCore: "Haswell"))
        #expect(!ComputeEnvironment.usesAVX512(blasCore: nil))
        #expect(!ComputeEnvironment.isGeneric(blasCore: nil), "no BLAS core (Accelerate) is not generic")
    }
}

@Suite("Int8 kernels on this CPU")
struct Int8KernelTests {
    @Test("the VNNI int8 product is bit-identical to the AVX2 one and close to the float product", .enabled(if: eg_vnni_available() != 0, "this CPU has no VNNI"),
          arguments: [GGMLType.q8_0, .q4_0])
    func vnniMatchesAVX2(type: GGMLType) {
        let m = 6, n = 37, k = 1024
        let x = KernelVariantTests.values(m * k, seed: 11).map { $0 * 3 }, weights = KernelVariantTests.values(n * k, seed: 12)
        let encoded = KernelVariantTests.encode(weights, rows: n, columns: k, as: type)
        let activationBytes = Int(eg_q8_activation_row_bytes(Int32(k)))
        let quantized = UnsafeMutableRawPointer.allocate(byteCount: m * activationBytes, alignment: 64)
        defer { quantized.deallocate() }
        eg_quantize_activations_q8(x, Int32(m), Int32(k), quantized)
        var a = [Float](repeating: 0, count: m * n), b = [Float](repeating: 1, count: m * n)
        encoded.withUnsafeBytes { wb in
            guard let wp = wb.baseAddress else { return }
            eg_quantized_gemm_avx2(quantized, Int32(m), wp, Int32(type.rawValue), Int32(n), Int32(k), &a, Int32(n))
            eg_quantized_gemm_vnni(quantized, Int32(m), wp, Int32(type.rawValue), Int32(n), Int32(k), &b, Int32(n))
        }
        #expect(a == b)
        // And close to the float product of the decoded weights and the unquantized activations:
        // int8 activations carry about 0.4 % error per value, so the error is bounded by a small
        // share of ‖x‖·‖w‖ (a relative bound fails where the exact sum cancels to near zero).
        var decoded = [Float](repeating: 0, count: n * k)
        encoded.withUnsafeBytes { wb in
            guard let wp = wb.baseAddress else { return }
            eg_decode_rows_avx2(wp, Int32(type.rawValue), Int32(n), Int32(k), &decoded)
        }
        for i in 0..<m {
            for j in 0..<n {
                var exact: Double = 0, xx: Double = 0, ww: Double = 0
                for p in 0..<k {
                    exact += Double(x[i * k + p]) * Double(decoded[j * k + p])
                    xx += Double(x[i * k + p]) * Double(x[i * k + p])
                    ww += Double(decoded[j * k + p]) * Double(decoded[j * k + p])
                }
                #expect(abs(Double(a[i * n + j]) - exact) <= 0.01 * (xx * ww).squareRoot())
            }
        }
    }
}
