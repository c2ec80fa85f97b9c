import Foundation
import Testing
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

    @Test("GELU (tanh form) matches the reference formula")
    func gelu() {
        let xs: [Float] = [-12, -5, -2.5, -1, -0.3, 0, 0.2, 1, 3, 8, 20]
        var gate = xs
        let up = [Float](repeating: 1, count: xs.count)
        Kernels.geluMultiply(&gate, up, count: xs.count)
        for (x, y) in zip(xs, gate) {
            let d = Double(x)
            let expected = 0.5 * d * (1 + tanh(0.7978845608028654 * (d + 0.044715 * d * d * d)))
            #expect(abs(Double(y) - expected) <= 1e-6 * max(1, abs(expected)), "gelu(\(x)) = \(y), expected \(expected)")
        }
    }

    @Test("softmax over a band sums to one and zeroes the rest")
    func softmaxBand() {
        var row: [Float] = [5, 1, 2, 3, 100, 7]
        Kernels.softmax(&row, count: 6, lower: 1, upper: 4)
        #expect(row[0] == 0 && row[4] == 0 && row[5] == 0)
        #expect(abs(row[1] + row[2] + row[3] - 1) < 1e-6)
        #expect(abs(row[3] / row[2] - Float(M_E)) < 1e-5)
    }
}
