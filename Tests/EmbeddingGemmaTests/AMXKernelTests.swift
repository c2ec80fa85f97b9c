import CEmbeddingGemmaKernels
import Testing
@testable import EmbeddingGemma

/// The AMX int8 kernel: the software model of the tile instruction against its documented formula
/// (and against the instruction where the CPU has AMX), the kernel's code on the model against the
/// portable reference for many row groups, and the decision that keeps tiles off unless the CPU,
/// the user, the OS and the self-check all allow them. `Int8KernelTests` also runs the kernel (on
/// the model, and on the tiles where they run) in its bit-for-bit comparisons.
@Suite("AMX int8 kernel")
struct AMXKernelTests {
    /// Whether this CPU has the int8 tiles and the OS grants them to this process.
    static let tilesRun = eg_amx_int8_available() != 0 && eg_amx_request_permission() != 0

    /// Deterministic bytes.
    static func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 40)
        }
    }

    /// c += a · b by the formula of `eg_amx_dpbsud`'s documentation, in Int.
    static func formula(a: [UInt8], rows: Int, depth: Int, b: [UInt8], columns: Int, c: [Int32]) -> [Int32] {
        var out = c
        for i in 0..<rows {
            for j in 0..<columns {
                var sum = Int(c[i * columns + j])
                for p in 0..<(depth / 4) {
                    for t in 0..<4 { sum += Int(Int8(bitPattern: a[i * depth + 4 * p + t])) * Int(b[p * columns * 4 + 4 * j + t]) }
                }
                out[i * columns + j] = Int32(sum)
            }
        }
        return out
    }

    typealias SingleProduct = (UnsafePointer<Int8>?, Int32, Int32, UnsafePointer<UInt8>?, Int32, UnsafeMutablePointer<Int32>?) -> Int32

    /// Runs one TDPBSUD through `product` on c (returned with the status).
    static func single(_ product: SingleProduct, a: [UInt8], rows: Int, depth: Int, b: [UInt8], columns: Int, c: [Int32]) -> (Int32, [Int32]) {
        var out = c
        let status = a.withUnsafeBytes { ab in
            b.withUnsafeBufferPointer { bb in
                out.withUnsafeMutableBufferPointer {
                    product(ab.bindMemory(to: Int8.self).baseAddress, Int32(rows), Int32(depth), bb.baseAddress, Int32(columns), $0.baseAddress)
                }
            }
        }
        return (status, out)
    }

    @Test("the tile model's TDPBSUD adds signed-by-unsigned byte products in groups of 4 to the accumulator",
          arguments: [(1, 4, 1), (16, 64, 16), (16, 32, 16), (7, 12, 5), (3, 64, 16)])
    func modelMatchesFormula(shape: (Int, Int, Int)) {
        let (rows, depth, columns) = shape
        let a = Self.bytes(rows * depth, seed: 1), b = Self.bytes(depth * columns, seed: 2)
        let c = Self.bytes(rows * columns, seed: 3).map { Int32($0) - 100 }
        let expected = Self.formula(a: a, rows: rows, depth: depth, b: b, columns: columns, c: c)
        let (status, got) = Self.single(eg_amx_dpbsud_model, a: a, rows: rows, depth: depth, b: b, columns: columns, c: c)
        #expect(status == 1)
        #expect(got == expected)
        // Signedness: the all-ones byte is -1 in a, 255 in b.
        let (_, ones) = Self.single(eg_amx_dpbsud_model, a: [0xFF, 0, 0, 0], rows: 1, depth: 4, b: [0xFF, 0, 0, 0], columns: 1, c: [0])
        #expect(ones == [-255])
    }

    @Test("the tile model reports shapes the instruction faults on and leaves the accumulator alone",
          arguments: [(17, 64, 16), (16, 68, 16), (16, 64, 17), (4, 2, 4), (0, 4, 1)])
    func modelFaults(shape: (Int, Int, Int)) {
        let (rows, depth, columns) = shape
        let a = Self.bytes(max(rows, 1) * max(depth, 4), seed: 4), b = Self.bytes(max(depth, 4) * max(columns, 1) * 4, seed: 5)
        let c = [Int32](repeating: 7, count: max(rows, 1) * max(columns, 1))
        let (status, got) = Self.single(eg_amx_dpbsud_model, a: a, rows: rows, depth: depth, b: b, columns: columns, c: c)
        #expect(status == 0)
        #expect(got == c)
    }

    @Test("the tile instruction gives the tile model's sums", .enabled(if: tilesRun, "no AMX tiles on this CPU, or the OS refused them"),
          arguments: [(1, 4, 1), (16, 64, 16), (16, 32, 16), (7, 12, 5)])
    func instructionMatchesModel(shape: (Int, Int, Int)) {
        let (rows, depth, columns) = shape
        let a = Self.bytes(rows * depth, seed: 6), b = Self.bytes(depth * columns, seed: 7)
        let c = Self.bytes(rows * columns, seed: 8).map { Int32($0) }
        let model = Self.single(eg_amx_dpbsud_model, a: a, rows: rows, depth: depth, b: b, columns: columns, c: c)
        let tiles = Self.single(eg_amx_dpbsud, a: a, rows: rows, depth: depth, b: b, columns: columns, c: c)
        #expect(model.0 == 1 && tiles.0 == 1)
        #expect(tiles.1 == model.1)
    }

    @Test("the AMX kernel on the tile model returns the reference's floats for many row groups, a last group that overlaps, partial panels",
          .enabled(if: eg_avx512vnni_available() != 0, "this CPU has no AVX-512 VNNI (the kernel's float steps)"),
          arguments: [GGMLType.q8_0, .q4_0], [(16, 16, 32), (33, 17, 64), (100, 40, 768), (256, 20, 3072)])
    func kernelOnModelMatchesReference(type: GGMLType, shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        let x = KernelVariantTests.values(m * k, seed: UInt64(m + k)).map { $0 * 3 }
        let encoded = KernelVariantTests.encode(KernelVariantTests.values(n * k, seed: UInt64(n)), rows: n, columns: k, as: type)
        let rowBytes = type.rowBytes(elements: k) ?? 0
        let q = Int8KernelTests.quantized(x, rows: m, k: k, for: type)
        let ldy = n + 1
        let (referenceStatus, expected) = Int8KernelTests.run(eg_gemm_int8_reference, q, m: m, encoded, type: type, rowBytes: rowBytes,
                                                              n: n, k: k, ldy: ldy)
        var products: [(String, AMXTiles.Product)] = [("tile model", eg_gemm_int8_amx_model)]
        if Self.tilesRun { products.append(("tiles", eg_gemm_int8_amx)) }
        for (name, product) in products {
            let (status, got) = Int8KernelTests.run(product, q, m: m, encoded, type: type, rowBytes: rowBytes, n: n, k: k, ldy: ldy)
            #expect(referenceStatus == 1 && status == 1)
            let differing = (0..<m).flatMap { i in (0..<n).map { i * ldy + $0 } }.filter { got[$0].bitPattern != expected[$0].bitPattern }
            #expect(differing.count == 0, "\(name): \(differing.count) of \(m * n) results differ")
            #expect((0..<m).allSatisfy { got[$0 * ldy + n].isNaN }, "\(name) wrote past column n")
        }
    }

    @Test("tiles stay off unless the CPU, the user, the OS and the self-check all allow them; the OS is asked only when the first two do")
    func decision() {
        var asked = 0, checked = 0
        func decide(cpu: Bool, optedIn: Bool, granted: Bool, passes: Bool) -> AMXTiles.Status {
            AMXTiles.decide(cpuHasTiles: cpu, optedIn: optedIn, requestPermission: { asked += 1; return granted },
                            selfCheck: { checked += 1; return passes })
        }
        #expect(decide(cpu: false, optedIn: true, granted: true, passes: true) == .notOnThisCPU)
        #expect(decide(cpu: true, optedIn: false, granted: true, passes: true) == .off)
        #expect(asked == 0 && checked == 0)
        #expect(decide(cpu: true, optedIn: true, granted: false, passes: true) == .refused)
        #expect(asked == 1 && checked == 0)
        #expect(decide(cpu: true, optedIn: true, granted: true, passes: false) == .failedSelfCheck)
        #expect(decide(cpu: true, optedIn: true, granted: true, passes: true) == .on)
        #expect(asked == 3 && checked == 2)
    }

    @Test("on a CPU without AMX the OS refuses the tile state when asked, and the int8 products take the VNNI kernel",
          .enabled(if: eg_amx_int8_available() == 0, "this CPU has AMX"))
    func refusalFallsBack() {
        // The real request (arch_prctl on Linux), as if the CPU check had passed: refused here.
        let status = AMXTiles.decide(cpuHasTiles: true, optedIn: true, requestPermission: { eg_amx_request_permission() != 0 },
                                     selfCheck: { Issue.record("the self-check ran without the permission"); return true })
        #expect(status == .refused)
        #expect(AMXTiles.status == .notOnThisCPU)
        #expect(Matmul.int8Kernel != .amx)
        if eg_avx512vnni_available() != 0, Matmul.useAVX512Kernels { #expect(Matmul.int8Kernel == .avx512VNNI) }
    }

    @Test("the self-check passes the kernel and catches one result off by one unit in the last place",
          .enabled(if: eg_avx512vnni_available() != 0, "this CPU has no AVX-512 VNNI"))
    func selfCheck() {
        #expect(AMXTiles.selfCheck(eg_gemm_int8_amx_model))
        #expect(AMXTiles.selfCheck(eg_gemm_int8_reference))
        let offByOne: AMXTiles.Product = { xq, m, w, type, rowBytes, n, k, y, ldy in
            let status = eg_gemm_int8_amx_model(xq, m, w, type, rowBytes, n, k, y, ldy)
            if let y, m > 20 { y[20 * ldy + 5] = y[20 * ldy + 5].nextUp }
            return status
        }
        #expect(!AMXTiles.selfCheck(offByOne))
    }
}
