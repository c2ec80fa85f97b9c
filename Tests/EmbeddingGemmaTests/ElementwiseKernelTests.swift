import Foundation
import Testing
@testable import EmbeddingGemma

/// The element-wise steps (GELU gate, softmax, RMSNorm, RoPE) with every choice of loops this CPU
/// runs (portable Swift, AVX2, AVX-512), each against the formula in double precision. Lengths are
/// not multiples of the vector widths, so the scalar tails run too.
@Suite("Element-wise kernels on this CPU")
struct ElementwiseKernelTests {
    static func values(_ count: Int, seed: UInt64, scale: Float) -> [Float] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return scale * Float(Int64(bitPattern: state) >> 40) / Float(1 << 23)
        }
    }

    @Test("GELU (tanh form) times the up projection matches the formula", arguments: Kernels.availableLanes)
    func gelu(lanes: Kernels.Lanes) {
        let xs: [Float] = [-200, -12, -5, -2.5, -1, -0.3, 0, 0.2, 1, 3, 8, 20, 300] + Self.values(50, seed: 3, scale: 6)
        let up = Self.values(xs.count, seed: 4, scale: 2)
        var gate = xs
        Kernels.geluMultiply(&gate, up, count: xs.count, lanes: lanes)
        for i in xs.indices {
            let d = Double(xs[i])
            let expected = 0.5 * d * (1 + tanh(0.7978845608028654 * (d + 0.044715 * d * d * d))) * Double(up[i])
            #expect(abs(Double(gate[i]) - expected) <= 1e-6 * max(1, abs(expected)),
                    "\(lanes): gelu(\(xs[i])) · \(up[i]) = \(gate[i]), expected \(expected)")
        }
    }

    @Test("softmax over a band equals the formula and zeroes the rest",
          arguments: Kernels.availableLanes, [(6, 1, 4), (40, 0, 40), (300, 7, 290), (33, 33, 33)])
    func softmax(lanes: Kernels.Lanes, shape: (count: Int, lower: Int, upper: Int)) {
        let input = Self.values(shape.count, seed: UInt64(shape.count), scale: 30)
        var row = input
        Kernels.softmax(&row, count: shape.count, lower: shape.lower, upper: shape.upper, lanes: lanes)
        let band = input[shape.lower..<shape.upper].map(Double.init)
        let top = band.max() ?? 0
        let total = band.reduce(0) { $0 + Foundation.exp($1 - top) }
        for j in 0..<shape.count {
            let expected = (shape.lower..<shape.upper).contains(j) ? Foundation.exp(Double(input[j]) - top) / total : 0
            // float32 rounds x − max by up to 2⁻²⁴·|x − max|, which e^x turns into that relative error.
            let tolerance = expected * (1e-6 + 6e-8 * abs(Double(input[j]) - top))
            #expect(abs(Double(row[j]) - expected) <= tolerance,
                    "\(lanes): softmax[\(j)] = \(row[j]), expected \(expected)")
        }
    }

    @Test("RMSNorm (written and added to the residual) matches the formula",
          arguments: Kernels.availableLanes, [(1, 768), (3, 256), (5, 37), (2, 7)])
    func rmsNorm(lanes: Kernels.Lanes, shape: (rows: Int, width: Int)) {
        let x = Self.values(shape.rows * shape.width, seed: UInt64(shape.width), scale: 40)
        let scale = Self.values(shape.width, seed: 9, scale: 2)
        let residual = Self.values(shape.rows * shape.width, seed: 10, scale: 5)
        var written = [Float](repeating: .nan, count: x.count), added = residual
        Kernels.rmsNorm(x, into: &written, rows: shape.rows, width: shape.width, scale: scale, eps: 1e-6, lanes: lanes)
        Kernels.rmsNorm(x, into: &added, rows: shape.rows, width: shape.width, scale: scale, eps: 1e-6, accumulate: true,
                        lanes: lanes)
        for r in 0..<shape.rows {
            let row = x[(r * shape.width)..<((r + 1) * shape.width)].map(Double.init)
            let inv = 1 / (row.reduce(0) { $0 + $1 * $1 } / Double(shape.width) + 1e-6).squareRoot()
            for i in 0..<shape.width {
                let t = row[i] * inv * Double(scale[i]), at = r * shape.width + i
                #expect(abs(Double(written[at]) - t) <= 1e-6 * max(1, abs(t)), "\(lanes): row \(r) [\(i)] = \(written[at]), expected \(t)")
                let sum = Double(residual[at]) + t
                #expect(abs(Double(added[at]) - sum) <= 1e-6 * max(1, abs(sum)), "\(lanes): row \(r) [\(i)] + residual")
            }
        }
    }

    @Test("RoPE rotates each (i, i + half) pair by its position's angle",
          arguments: Kernels.availableLanes, [(3, 2, 256), (2, 3, 22), (1, 1, 64)])
    func rope(lanes: Kernels.Lanes, shape: (rows: Int, heads: Int, headDim: Int)) {
        let half = shape.headDim / 2, stride = shape.heads * shape.headDim + 4
        let positions: [Int32] = (0..<shape.rows).map { Int32(3 * $0 + 1) }
        let angles = (0..<(10 * half)).map { Double($0 % half + 1) * Double($0 / half) * 0.37 }
        let cos = angles.map { Float(Foundation.cos($0)) }, sin = angles.map { Float(Foundation.sin($0)) }
        let input = Self.values(shape.rows * stride, seed: 12, scale: 3)
        var x = input
        Kernels.rope(&x, rows: shape.rows, heads: shape.heads, headDim: shape.headDim, rowStride: stride,
                     positions: positions, cos: cos, sin: sin, lanes: lanes)
        for r in 0..<shape.rows {
            let base = Int(positions[r]) * half
            for h in 0..<shape.heads {
                for i in 0..<half {
                    let lo = r * stride + h * shape.headDim + i, hi = lo + half
                    let a = Double(input[lo]), b = Double(input[hi])
                    let c = Double(cos[base + i]), s = Double(sin[base + i])
                    #expect(abs(Double(x[lo]) - (a * c - b * s)) <= 1e-6 * max(1, abs(a) + abs(b)), "\(lanes): row \(r) head \(h) [\(i)]")
                    #expect(abs(Double(x[hi]) - (b * c + a * s)) <= 1e-6 * max(1, abs(a) + abs(b)), "\(lanes): row \(r) head \(h) [\(i + half)]")
                }
            }
            // The padding past the heads is left alone.
            for j in (shape.heads * shape.headDim)..<stride { #expect(x[r * stride + j] == input[r * stride + j]) }
        }
    }
}
