import CEmbeddingGemmaKernels
import Testing
@testable import EmbeddingGemma

/// The int8 products on Q8_0/Q4_0 weights: the portable reference (exact integer block sums, one
/// `fmaf` per block) against a double-precision product, and every vector kernel the CPU runs (AVX-512
/// VNNI, AVX-VNNI, AMX, and the AMX kernel on the tile model) against the reference bit for bit.
@Suite("Int8 kernels")
struct Int8KernelTests {
    typealias Quantizer = (UnsafePointer<Float>, Int, Int32, Int32, Int32, UnsafeMutableRawPointer?) -> Void

    /// The vector kernels this CPU runs: name, quantizer, product.
    static var kernels: [(String, Quantizer, Product)] {
        var list: [(String, Quantizer, Product)] = []
        if eg_avx512vnni_available() != 0 { list.append(("AVX-512 VNNI", eg_quantize_int8_avx512vnni, eg_gemm_int8_avx512vnni)) }
        if eg_avxvnni_available() != 0 { list.append(("AVX-VNNI", eg_quantize_int8_avxvnni, eg_gemm_int8_avxvnni)) }
        if eg_avx512vnni_available() != 0 { list.append(("AMX on the tile model", eg_quantize_int8_avx512vnni, eg_gemm_int8_amx_model)) }
        if AMXKernelTests.tilesRun { list.append(("AMX", eg_quantize_int8_avx512vnni, eg_gemm_int8_amx)) }
        return list
    }

    /// The first vector quantizer this CPU runs, else the portable one.
    static var fastestQuantizer: Quantizer { kernels.first?.1 ?? eg_quantize_int8_reference }

    /// `rows` rows of `k` floats quantized by `quantize` for weights of `type`.
    static func quantized(_ x: [Float], rows: Int, k: Int, for type: GGMLType, _ quantize: Quantizer = fastestQuantizer) -> [UInt8] {
        var out = [UInt8](repeating: 0xAA, count: rows * Int(eg_int8_row_bytes(Int32(k))))
        x.withUnsafeBufferPointer { xb in
            out.withUnsafeMutableBytes { quantize(xb.baseAddress!, k, Int32(rows), Int32(k), Int32(type.rawValue), $0.baseAddress) }
        }
        return out
    }

    typealias Product = (UnsafeRawPointer?, Int32, UnsafeRawPointer?, Int32, Int, Int32, Int32, UnsafeMutablePointer<Float>?, Int) -> Int32

    /// `y = int8 product` of quantized rows and encoded weight rows (`rowBytes` apart), via `product`.
    static func run(_ product: Product, _ q: [UInt8], m: Int, _ weights: [UInt8], type: GGMLType, rowBytes: Int, n: Int, k: Int,
                    ldy: Int) -> (Int32, [Float]) {
        var y = [Float](repeating: .nan, count: m * ldy)
        var status: Int32 = -1
        q.withUnsafeBytes { qb in
            weights.withUnsafeBytes { wb in
                y.withUnsafeMutableBufferPointer { yb in
                    status = product(qb.baseAddress, Int32(m), wb.baseAddress, Int32(type.rawValue), rowBytes, Int32(n), Int32(k), yb.baseAddress, ldy)
                }
            }
        }
        return (status, y)
    }

    @Test("activation rows: scale max|x|/127, codes within half a step, corrections = -offset x code sum; the vector quantizer writes the same bytes",
          arguments: [GGMLType.q8_0, .q4_0])
    func quantization(type: GGMLType) {
        let m = 5, k = 96, nb = k / 32
        var x = KernelVariantTests.values(m * k, seed: 31).map { $0 * 4 }
        for t in 32..<64 { x[t] = 0 } // an all-zero block: scale 0, codes 0
        x[k + 7] = 1e-30                // a tiny block next to normal ones
        let bytes = Self.quantized(x, rows: m, k: k, for: type, eg_quantize_int8_reference)
        let rowBytes = Int(eg_int8_row_bytes(Int32(k)))
        #expect(rowBytes % 64 == 0 && rowBytes >= k + nb * 8)
        let offset = type == .q8_0 ? 128 : 8
        for i in 0..<m {
            let row = Array(bytes[(i * rowBytes)..<((i + 1) * rowBytes)])
            for b in 0..<nb {
                let codes = (0..<32).map { Int(Int8(bitPattern: row[b * 32 + $0])) }
                let scale = row.withUnsafeBytes { $0.load(fromByteOffset: k + b * 4, as: Float.self) }
                let correction = row.withUnsafeBytes { $0.load(fromByteOffset: k + nb * 4 + b * 4, as: Int32.self) }
                let block = x[(i * k + b * 32)..<(i * k + b * 32 + 32)]
                let amax = block.map(abs).max() ?? 0
                #expect(scale == amax / 127)
                #expect(Int(correction) == -offset * codes.reduce(0, +))
                for (t, value) in block.enumerated() {
                    #expect(abs(codes[t]) <= 127)
                    #expect(abs(Float(codes[t]) * scale - value) <= scale / 2 * 1.0001, "row \(i) block \(b) value \(t)")
                }
            }
            if i == 0 { #expect(row[32..<64].allSatisfy { $0 == 0 }, "the zero block has zero codes") }
        }
        for (name, quantize, _) in Self.kernels {
            #expect(Self.quantized(x, rows: m, k: k, for: type, quantize) == bytes, "\(name) quantizer = portable quantizer")
        }
    }

    @Test("the reference int8 product is within the activations' quantization error of the float product", arguments: [GGMLType.q8_0, .q4_0])
    func referenceIsClose(type: GGMLType) {
        let m = 6, n = 37, k = 1024
        let x = KernelVariantTests.values(m * k, seed: 11).map { $0 * 3 }, weights = KernelVariantTests.values(n * k, seed: 12)
        let encoded = KernelVariantTests.encode(weights, rows: n, columns: k, as: type)
        let rowBytes = type.rowBytes(elements: k) ?? 0
        let (status, y) = Self.run(eg_gemm_int8_reference, Self.quantized(x, rows: m, k: k, for: type), m: m, encoded, type: type,
                                   rowBytes: rowBytes, n: n, k: k, ldy: n)
        #expect(status == 1)
        var decoded = [Float](repeating: 0, count: n * k)
        encoded.withUnsafeBytes { wb in
            WeightMatrix(type: type, rows: n, columns: k, bytes: wb.baseAddress!, owner: [UInt8]() as AnyObject)
                .decode(rows: 0..<n, into: &decoded)
        }
        var worst = 0.0
        for i in 0..<m {
            for j in 0..<n {
                var exact = 0.0, xx = 0.0, ww = 0.0
                for p in 0..<k {
                    exact += Double(x[i * k + p]) * Double(decoded[j * k + p])
                    xx += Double(x[i * k + p]) * Double(x[i * k + p])
                    ww += Double(decoded[j * k + p]) * Double(decoded[j * k + p])
                }
                // int8 activations carry at most half a step (max|x|/254) of error per value, so the
                // error is a small share of ‖x‖·‖w‖ (a relative bound fails where the sum cancels).
                let error = abs(Double(y[i * n + j]) - exact) / (xx * ww).squareRoot()
                worst = max(worst, error)
            }
        }
        #expect(worst > 0 && worst < 0.004, "worst error \(worst) of ‖x‖·‖w‖")
    }

    @Test("every int8 kernel this CPU runs returns the reference's floats bit for bit: edge tiles of rows and columns, strided weights and outputs",
          .enabled(if: !kernels.isEmpty, "this CPU has no VNNI"),
          arguments: [GGMLType.q8_0, .q4_0], [(1, 1, 32), (3, 15, 64), (8, 16, 96), (9, 17, 768), (13, 33, 1152), (16, 16, 32), (21, 40, 3072), (47, 31, 768)])
    func vnniMatchesReference(type: GGMLType, shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        let x = KernelVariantTests.values(m * k, seed: UInt64(7 + k)).map { $0 * 5 }
        // Weight rows padded by one block: the kernel must follow row_bytes, not assume packing.
        let packed = type.rowBytes(elements: k) ?? 0, rowBytes = packed + (type == .q8_0 ? 34 : 18)
        let encoded = KernelVariantTests.encode(KernelVariantTests.values(n * (k + 32), seed: UInt64(n)), rows: n, columns: k + 32, as: type)
        #expect(encoded.count == n * rowBytes)
        let q = Self.quantized(x, rows: m, k: k, for: type, eg_quantize_int8_reference)
        let ldy = n + 3
        let (expectedStatus, expected) = Self.run(eg_gemm_int8_reference, q, m: m, encoded, type: type, rowBytes: rowBytes, n: n, k: k, ldy: ldy)
        #expect(expectedStatus == 1)
        for (name, _, product) in Self.kernels {
            let (status, got) = Self.run(product, q, m: m, encoded, type: type, rowBytes: rowBytes, n: n, k: k, ldy: ldy)
            #expect(status == 1)
            var mismatches = 0, overwritten = 0
            for i in 0..<m {
                for j in 0..<ldy {
                    let a = got[i * ldy + j], b = expected[i * ldy + j]
                    if j < n, a.bitPattern != b.bitPattern { mismatches += 1 }
                    if j >= n, !a.isNaN { overwritten += 1 }
                }
            }
            #expect(mismatches == 0, "\(name): \(mismatches) of \(m * n) results differ from the reference")
            #expect(overwritten == 0, "\(name): \(overwritten) values past column n were written")
        }
    }

    @Test("the int8 kernels refuse other block types and row lengths that are not whole blocks")
    func refusals() {
        let q = [UInt8](repeating: 0, count: 4096), w = [UInt8](repeating: 0, count: 4096)
        for product in [eg_gemm_int8_reference] + Self.kernels.map(\.2) {
            #expect(Self.run(product, q, m: 1, w, type: .q4_K, rowBytes: 144, n: 1, k: 256, ldy: 1).0 == 0)
            #expect(Self.run(product, q, m: 1, w, type: .q8_0, rowBytes: 51, n: 1, k: 48, ldy: 1).0 == 0)
            #expect(Self.run(product, q, m: 1, w, type: .q8_0, rowBytes: 0, n: 1, k: 0, ldy: 1).0 == 0)
            #expect(Self.run(product, q, m: 1, w, type: .q4_0, rowBytes: 18 * 160, n: 1, k: 5120, ldy: 1).0 == 0)
        }
    }
}
