import CEmbeddingGemmaKernels
import Testing
@testable import EmbeddingGemma

/// Every float32 product kernel this CPU runs, called directly, against a double-precision naive
/// product: AVX2 (4 × 3 blocks, packed 6 × 16 tiles) and AVX-512 (4 × 6 blocks, packed 6 × 64 tiles) where
/// the CPU has them. Shapes cover the edge blocks (rows not a multiple of the tile, weight rows not a
/// multiple of the block or panel width, more weight rows than one panel, depths past one packed chunk)
/// and strided operands.
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
        if eg_avx2_fma_available() != 0 {
            list.append(("AVX2", eg_gemm_nt_avx2))
            list.append(("AVX2 packed", { x, ldx, m, w, ldw, n, k, y, ldy in
                #expect(eg_gemm_packed_avx2(x, ldx, m, w, ldw, n, k, y, ldy) == 1)
            }))
        }
        if eg_avx512_available() != 0 {
            list.append(("AVX-512", eg_gemm_nt_avx512))
            list.append(("AVX-512 packed", { x, ldx, m, w, ldw, n, k, y, ldy in
                #expect(eg_gemm_packed_avx512(x, ldx, m, w, ldw, n, k, y, ldy) == 1)
            }))
        }
        return list
    }

    @Test("float32 kernels equal the naive product",
          arguments: [(1, 1, 16), (3, 7, 32), (5, 13, 48), (9, 25, 768), (37, 200, 64), (64, 17, 3072), (12, 32, 16), (59, 67, 256),
                       (13, 33, 400), (50, 40, 528)])
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
            // Float32 sums carry rounding that grows with the depth: the packed kernel sums each output over
            // p in order (as BLAS does), about √k·u·Σ|xₚwₚ|; the dot-product blocks keep 16 partial sums.
            // A wrong or missing term costs about |xₚwₚ| ≈ 0.3, far above either bound.
            var worst: Double = 0
            for i in 0..<m {
                for j in 0..<n {
                    var exact: Double = 0, magnitude: Double = 0
                    for p in 0..<k {
                        let term = Double(x[i * ldx + p]) * Double(w[j * ldw + p])
                        exact += term
                        magnitude += abs(term)
                    }
                    let allowed = 2e-5 * max(1, abs(exact)) + 2 * Double(k).squareRoot() * Double(Float.ulpOfOne) / 2 * magnitude
                    worst = max(worst, abs(Double(y[i * ldy + j]) - exact) / allowed)
                }
            }
            #expect(worst < 1, "\(name) \(m)×\(n)×\(k): worst error \(worst) of the allowed rounding")
            // Padding columns of the output are never written.
            #expect(y[ldy - 1].isNaN, "\(name) wrote past n")
        }
    }

    @Test("the packed kernels refuse a depth that is not a positive multiple of their lanes and write nothing",
          .enabled(if: eg_avx2_fma_available() != 0, "this CPU has no AVX2+FMA"))
    func packedRefusal() {
        typealias Packed = (UnsafePointer<Float>, Int, Int32, UnsafePointer<Float>, Int, Int32, Int32, UnsafeMutablePointer<Float>, Int) -> Int32
        var kernels: [(String, Int32, Packed)] = [("AVX2", 8, eg_gemm_packed_avx2)]
        if eg_avx512_available() != 0 { kernels.append(("AVX-512", 16, eg_gemm_packed_avx512)) }
        let x = [Float](repeating: 1, count: 24), w = [Float](repeating: 1, count: 24)
        for (name, lanes, kernel) in kernels {
            var y = [Float](repeating: .nan, count: 1)
            #expect(kernel(x, 24, 1, w, 24, 1, lanes + lanes / 2, &y, 1) == 0, "\(name)")
            #expect(kernel(x, 24, 1, w, 24, 1, 0, &y, 1) == 0, "\(name)")
            #expect(y[0].isNaN, "\(name) wrote an output")
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

@Suite("CPU description")
struct CPUDescriptionTests {
    @Test("the CPU is named with its family and model numbers, from the first processor's block")
    func familyAndModel() {
        let twoProcessors = """
            processor\t: 0
            vendor_id\t: GenuineIntel
            cpu family\t: 6
            model\t\t: 207
            model name\t: Intel(R) Xeon(R) Platinum 8581C CPU @ 2.10GHz
            flags\t\t: fpu avx2 amx_tile

            processor\t: 1
            cpu family\t: 25
            model\t\t: 1
            model name\t: another

            """
        #expect(ComputeEnvironment.cpuModel(cpuinfo: twoProcessors)
                == "Intel(R) Xeon(R) Platinum 8581C CPU @ 2.10GHz (family 6 model 207)")
        #expect(ComputeEnvironment.firstProcessor(cpuinfo: twoProcessors)["flags"] == "fpu avx2 amx_tile")
        #expect(ComputeEnvironment.cpuModel(cpuinfo: "model name\t: AMD EPYC\n") == "AMD EPYC",
                "without family and model numbers, the name alone")
        #expect(ComputeEnvironment.cpuModel(cpuinfo: "") == "unknown CPU")
    }
}
