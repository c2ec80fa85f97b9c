import Foundation
import Testing
import EmbeddingGemmaTestSupport
@testable import EmbeddingGemma

@Suite("Compute kernels")
struct KernelTests {
    @Test("fast exp is within 3e-7 relative of Foundation's over the softmax/GELU range")
    func expAccuracy() {
        var worst: Double = 0
        var x: Float = -87
        while x <= 88 {
            let expected = Foundation.exp(Double(x))
            let got = Double(Kernels.exp(x))
            worst = max(worst, abs(got - expected) / expected)
            x += 0.0137
        }
        #expect(worst < 3e-7, "worst relative error \(worst)")
        #expect(Kernels.exp(-1000) >= 0 && Kernels.exp(-1000) < 1e-37)
    }

    @Test("linear layer: every dispatch path (small-batch kernel, row split, column split) equals the naive product",
          arguments: [(1, 9, 8), (3, 4, 16), (5, 7, 776), (13, 33, 768), (16, 1000, 1152), (40, 20, 768), (300, 64, 64)])
    func linear(rows: Int, outFeatures: Int, inFeatures: Int) {
        var seed: UInt64 = UInt64(rows * 1000 + outFeatures)
        func next() -> Float {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int64(bitPattern: seed) >> 40) / Float(1 << 23)
        }
        let x = (0..<(rows * inFeatures)).map { _ in next() }
        let w = (0..<(outFeatures * inFeatures)).map { _ in next() }
        var y = [Float](repeating: .nan, count: rows * outFeatures)
        x.withUnsafeBufferPointer { xb in
            w.withUnsafeBufferPointer { wb in
                y.withUnsafeMutableBufferPointer { yb in
                    Matmul.linear(xb.baseAddress!, rows: rows, inFeatures: inFeatures, weight: wb.baseAddress!,
                                  outFeatures: outFeatures, into: yb.baseAddress!)
                }
            }
        }
        var worst: Double = 0
        for i in 0..<rows {
            for j in 0..<outFeatures {
                var expected: Double = 0, magnitude: Double = 0
                for p in 0..<inFeatures {
                    let product = Double(x[i * inFeatures + p]) * Double(w[j * inFeatures + p])
                    expected += product
                    magnitude += abs(product)
                }
                // Error relative to Σ|x·w|, the scale of float32 rounding in a dot product.
                worst = max(worst, abs(Double(y[i * outFeatures + j]) - expected) / magnitude)
            }
        }
        #expect(worst < 1e-6, "worst error relative to Σ|x·w| \(worst)")
    }
    @Test("attention products: scores (a·bᵀ, scaled) and the weighted sum of values (zero-padded scores, transposed values) equal the naive products",
          arguments: [(1, 1, 8), (7, 13, 16), (12, 300, 256), (384, 257, 256), (5, 9, 3)])
    func attentionProducts(m: Int, n: Int, k: Int) {
        var seed: UInt64 = UInt64(m * 7919 + n * 31 + k)
        let a = TinyModel.random(m * k, seed: &seed, scale: 1)
        let b = TinyModel.random(n * k, seed: &seed, scale: 1)
        // Scores: c[m×n] = 0.5 · a[m×k] · b[n×k]ᵀ, with a row stride wider than n.
        let ldc = n + 3
        var scores = [Float](repeating: .nan, count: m * ldc)
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                scores.withUnsafeMutableBufferPointer { cp in
                    Matmul.multiplyTransposed(ap.baseAddress!, lda: k, bp.baseAddress!, ldb: k, into: cp.baseAddress!, ldc: ldc,
                                              m: m, n: n, k: k, alpha: 0.5)
                }
            }
        }
        var worst = 0.0
        for i in 0..<m {
            for j in 0..<n {
                var expected = 0.0, magnitude = 0.0
                for p in 0..<k {
                    expected += 0.5 * Double(a[i * k + p]) * Double(b[j * k + p])
                    magnitude += 0.5 * abs(Double(a[i * k + p]) * Double(b[j * k + p]))
                }
                worst = max(worst, abs(Double(scores[i * ldc + j]) - expected) / magnitude)
            }
        }
        #expect(worst < 1e-6, "scores: worst error relative to Σ|a·b| \(worst)")

        // Weighted sum as the encoder computes it: out[m×k] = s[m×n] · v[n×k] with s's rows padded with zeros
        // to paddedWidth(n) and v given transposed, its rows longer than n and holding other values beyond n.
        let stride = Matmul.paddedWidth(n)
        var s = [Float](repeating: 0, count: m * stride)
        for i in 0..<m {
            for j in 0..<n { s[i * stride + j] = a[(i * n + j) % a.count] }
        }
        let valueStride = stride + 8
        var transposed = [Float](repeating: 0, count: k * valueStride)
        for d in 0..<k {
            for j in 0..<valueStride { transposed[d * valueStride + j] = j < n ? b[j * k + d] : 1000 + Float(j) }
        }
        var out = [Float](repeating: .nan, count: m * k)
        s.withUnsafeBufferPointer { sp in
            transposed.withUnsafeBufferPointer { tp in
                out.withUnsafeMutableBufferPointer { op in
                    Matmul.multiplyTransposed(sp.baseAddress!, lda: stride, tp.baseAddress!, ldb: valueStride, into: op.baseAddress!, ldc: k,
                                              m: m, n: k, k: stride, alpha: 1)
                }
            }
        }
        worst = 0
        for i in 0..<m {
            for d in 0..<k {
                var expected = 0.0, magnitude = 0.0
                for j in 0..<n {
                    expected += Double(s[i * stride + j]) * Double(b[j * k + d])
                    magnitude += abs(Double(s[i * stride + j]) * Double(b[j * k + d]))
                }
                worst = max(worst, abs(Double(out[i * k + d]) - expected) / max(magnitude, 1e-30))
            }
        }
        #expect(worst < 1e-6, "weighted sum: worst error relative to Σ|s·v| \(worst)")
    }
}


@Suite("SHA-256")
struct SHA256Tests {
    func digest(_ text: String) -> String {
        var hash = SHA256()
        hash.update(Array(text.utf8))
        return hash.finalizeHex()
    }

    @Test("FIPS 180-4 test vectors")
    func vectors() {
        #expect(digest("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(digest(String(repeating: "a", count: 1_000)) == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }

    @Test("feeding in pieces gives the same digest")
    func pieces() {
        let text = Array(String(repeating: "0123456789", count: 50).utf8)
        var hash = SHA256()
        for start in stride(from: 0, to: text.count, by: 37) { hash.update(Array(text[start..<min(text.count, start + 37)])) }
        #expect(hash.finalizeHex() == digest(String(repeating: "0123456789", count: 50)))
    }
}
