import CEmbeddingGemmaKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if canImport(Accelerate)
import Accelerate
#elseif canImport(COpenBLAS)
import COpenBLAS
#endif

/// The element-wise steps and matrix products of the backward pass (training). Row-wise steps
/// are plain loops the compiler vectorises; products go to the platform BLAS in both
/// orientations the backward needs (`dX = dY·W` and `dW += dYᵀ·X`), split across
/// ``Parallel/threadCount`` threads by rows of the result like ``Matmul/linear``.
enum BackwardKernels {
    /// `c[m×n] = beta·c + op(a)·op(b)`, row-major, where `op(a)` is `a` `[m×k]` or, when
    /// `transposeA`, `a` stored `[k×m]`; likewise `op(b)` is `[k×n]` or stored `[n×k]`.
    /// Rows of `c` are shared out across threads.
    static func product(
        _ a: UnsafePointer<Float>, lda: Int, transposeA: Bool,
        _ b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
        into c: UnsafeMutablePointer<Float>, ldc: Int, m: Int, n: Int, k: Int, beta: Float
    ) {
        guard m > 0, n > 0 else { return }
        _ = Matmul.configureThreads
        guard k > 0 else {
            if beta != 1 { for i in 0..<m { for j in 0..<n { c[i * ldc + j] *= beta } } }
            return
        }
        // Chunks of at least 64 rows, multiples of 16 so every thread gets whole kernel tiles.
        Parallel.forEachChunk((m + 15) / 16, grain: 4) { blocks in
            let first = blocks.lowerBound * 16, last = min(m, blocks.upperBound * 16)
            guard first < last else { return }
            let rowsA = transposeA ? a + first : a + first * lda
            cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                        Int32(last - first), Int32(n), Int32(k), 1, rowsA, Int32(lda), b, Int32(ldb),
                        beta, c + first * ldc, Int32(ldc))
        }
    }

    /// Backward of `y = x · rsqrt(mean(x²) + eps) · scale` over `rows` rows of `width`:
    /// adds `dL/dx` to `dx` (or stores it when `accumulate` is false) and adds `dL/dscale`
    /// (which is `dL/dw` for the factor `1 + w`) to `dScale`. `dx` may alias `dy` when not accumulating.
    static func rmsNorm(
        input x: UnsafePointer<Float>, scale: UnsafePointer<Float>, gradient dy: UnsafePointer<Float>,
        into dx: UnsafeMutablePointer<Float>, accumulate: Bool, scaleGradient dScale: UnsafeMutablePointer<Float>,
        rows: Int, width: Int, eps: Float
    ) {
        let inverseWidth = 1 / Float(width)
        for r in 0..<rows {
            let xr = x + r * width, dyr = dy + r * width, dxr = dx + r * width
            var squares: Float = 0
            for i in 0..<width { squares += xr[i] * xr[i] }
            let inv = 1 / (squares * inverseWidth + eps).squareRoot()
            var dot: Float = 0
            for i in 0..<width { dot += scale[i] * dyr[i] * xr[i] }
            let coefficient = inv * inv * inv * dot * inverseWidth
            for i in 0..<width {
                dScale[i] += dyr[i] * xr[i] * inv
                let g = inv * scale[i] * dyr[i] - coefficient * xr[i]
                if accumulate { dxr[i] += g } else { dxr[i] = g }
            }
        }
    }

    /// Backward of `m = gelu_tanh(gate) · up`: from `dm`, stores `dL/dgate` in `dGate` (which may
    /// be `dm`) and `dL/dup` in `dUp`. With `s = 1 / (1 + e^(−2u))`, `gelu = x·s` and
    /// `gelu′ = s + x·s·(1 − s)·2·√(2/π)·(1 + 3·0.044715·x²)`: one exponential per value, on the C
    /// kernels' vectors where this CPU runs them.
    static func geluMultiply(
        gate: UnsafePointer<Float>, up: UnsafePointer<Float>, gradient dm: UnsafePointer<Float>,
        gateGradient dGate: UnsafeMutablePointer<Float>, upGradient dUp: UnsafeMutablePointer<Float>, count: Int,
        lanes: Kernels.Lanes = Kernels.fastest
    ) {
        #if arch(x86_64)
        switch lanes {
        case .avx512: return eg_gelu_multiply_backward_avx512(gate, up, dm, dGate, dUp, count)
        case .avx2: return eg_gelu_multiply_backward_avx2(gate, up, dm, dGate, dUp, count)
        case .portable: break
        }
        #endif
        let k0: Float = 0.797_884_560_802_865_4 // sqrt(2/π)
        let k1: Float = 0.044715
        for i in 0..<count {
            let x = gate[i]
            let s = 1 / (1 + Kernels.exp(-2 * k0 * (x + k1 * x * x * x)))
            let derivative = s + x * s * (1 - s) * 2 * k0 * (1 + 3 * k1 * x * x)
            let g = dm[i]
            dUp[i] = g * x * s
            dGate[i] = g * up[i] * derivative
        }
    }

    /// Backward of a softmax row in place: `p` the probabilities (zero outside the row's
    /// window), `d` holds `dL/dp` on entry and `dL/dscores · factor` on return.
    static func softmax(probabilities p: UnsafePointer<Float>, gradient d: UnsafeMutablePointer<Float>, count: Int, factor: Float) {
        var dot: Float = 0
        for j in 0..<count { dot += p[j] * d[j] }
        for j in 0..<count { d[j] = p[j] * (d[j] - dot) * factor }
    }
}
