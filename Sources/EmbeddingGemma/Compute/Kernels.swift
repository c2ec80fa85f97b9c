import CEmbeddingGemmaKernels

/// The element-wise and row-wise steps of the encoder, over raw float32 buffers.
///
/// Each kernel works on a contiguous block of rows; callers split large batches across threads
/// with ``Parallel``. The loops are written so that the compiler vectorises them on the baseline
/// target (SSE2 on x86-64, NEON on arm64) without platform flags: no calls inside loops, explicit
/// SIMD accumulators for reductions, and an `exp` built from arithmetic and bit operations.
/// Arithmetic follows the reference's float32 formulas (RMSNorm: `x · rsqrt(mean(x²) + eps) · (1 + w)`).
///
/// On x86-64 CPUs with AVX2 or AVX-512 the RMSNorm, RoPE, softmax and GELU steps run the C kernel
/// target's loops instead (`eg_rms_norm_avx512` and kin: the same formulas, 8 or 16 lanes and fused
/// multiply-adds), chosen like the products (``Matmul/useAVX512Kernels``); `lanes` selects one for tests.
enum Kernels {
    /// Which loops run the element-wise steps.
    enum Lanes: Sendable, CaseIterable {
        /// The Swift loops below (SSE2 on x86-64, NEON on arm64).
        case portable
        /// The C kernels' AVX2+FMA loops.
        case avx2
        /// The C kernels' AVX-512F loops.
        case avx512
    }

    /// The fastest loops this CPU runs (and the environment allows, see ``Matmul/useAVX512Kernels``).
    static let fastest: Lanes = Matmul.useAVX512Kernels ? .avx512 : Matmul.useAVX2Kernels ? .avx2 : .portable

    /// Every choice of loops this CPU can run, portable first.
    static var availableLanes: [Lanes] {
        [.portable] + (eg_avx2_fma_available() != 0 ? [.avx2] : []) + (eg_avx512_available() != 0 ? [.avx512] : [])
    }

    /// `Σ a[i]·b[i]` with SIMD accumulators.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
        var i = 0
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        while i + 16 <= count {
            acc0 += ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                * rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            acc1 += ra.loadUnaligned(fromByteOffset: (i + 8) * 4, as: SIMD8<Float>.self)
                * rb.loadUnaligned(fromByteOffset: (i + 8) * 4, as: SIMD8<Float>.self)
            i += 16
        }
        var sum = (acc0 + acc1).sum()
        while i < count {
            sum += a[i] * b[i]
            i += 1
        }
        return sum
    }

    /// RMS-normalises each row of `input`: `rmsNorm(x) = x · rsqrt(mean(x²) + eps) · scale`, where
    /// `scale` is `1 + weight`. The result replaces `output` (which may alias `input`), or is added
    /// to it when `accumulate` is true (the residual connections after attention and the MLP).
    static func rmsNorm(
        _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
        rows: Int, width: Int, scale: UnsafePointer<Float>, eps: Float, accumulate: Bool = false, lanes: Lanes = Kernels.fastest
    ) {
        #if arch(x86_64)
        switch lanes {
        case .avx512: return eg_rms_norm_avx512(input, output, rows, width, scale, eps, accumulate ? 1 : 0)
        case .avx2: return eg_rms_norm_avx2(input, output, rows, width, scale, eps, accumulate ? 1 : 0)
        case .portable: break
        }
        #endif
        for r in 0..<rows {
            let x = input + r * width
            let y = output + r * width
            let inv = 1 / (dot(x, x, count: width) / Float(width) + eps).squareRoot()
            if accumulate {
                for i in 0..<width { y[i] += (x[i] * inv) * scale[i] }
            } else {
                for i in 0..<width { y[i] = (x[i] * inv) * scale[i] }
            }
        }
    }

    /// Rotary position embedding on `heads` heads of width `headDim` per row, in place.
    /// Row `r` has position `positions[r]`; `cos`/`sin` hold `headDim / 2` values per position.
    /// Pairs are `(i, i + headDim/2)` (the "rotate half" convention).
    static func rope(
        _ x: UnsafeMutablePointer<Float>, rows: Int, heads: Int, headDim: Int, rowStride: Int,
        positions: UnsafePointer<Int32>, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>, lanes: Lanes = Kernels.fastest
    ) {
        #if arch(x86_64)
        switch lanes {
        case .avx512: return eg_rope_avx512(x, rows, Int32(heads), Int32(headDim), rowStride, positions, cos, sin)
        case .avx2: return eg_rope_avx2(x, rows, Int32(heads), Int32(headDim), rowStride, positions, cos, sin)
        case .portable: break
        }
        #endif
        let half = headDim / 2
        for r in 0..<rows {
            let c = cos + Int(positions[r]) * half
            let s = sin + Int(positions[r]) * half
            for h in 0..<heads {
                let lo = x + r * rowStride + h * headDim
                let hi = lo + half
                for i in 0..<half {
                    let a = lo[i]
                    let b = hi[i]
                    lo[i] = a * c[i] - b * s[i]
                    hi[i] = b * c[i] + a * s[i]
                }
            }
        }
    }

    /// `gate = gelu_tanh(gate) · up`, element-wise over `count` values.
    ///
    /// Uses the identity `0.5·x·(1 + tanh(u)) = x / (1 + exp(−2u))`, which is exact in real
    /// arithmetic and avoids the cancellation of `1 + tanh(u)` for large negative `u`.
    static func geluMultiply(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count: Int, lanes: Lanes = Kernels.fastest) {
        #if arch(x86_64)
        switch lanes {
        case .avx512: return eg_gelu_multiply_avx512(gate, up, count)
        case .avx2: return eg_gelu_multiply_avx2(gate, up, count)
        case .portable: break
        }
        #endif
        let k0: Float = 0.797_884_560_802_865_4 // sqrt(2/π)
        let k1: Float = 0.044715
        for i in 0..<count {
            let x = gate[i]
            let inner = k0 * (x + k1 * x * x * x)
            gate[i] = x / (1 + exp(-2 * inner)) * up[i]
        }
    }

    /// Softmax of `row[lower..<upper]` in place; entries outside the range are set to zero.
    static func softmax(_ row: UnsafeMutablePointer<Float>, count: Int, lower: Int, upper: Int, lanes: Lanes = Kernels.fastest) {
        #if arch(x86_64)
        switch lanes {
        case .avx512: return eg_softmax_avx512(row, count, lower, upper)
        case .avx2: return eg_softmax_avx2(row, count, lower, upper)
        case .portable: break
        }
        #endif
        var maximum = -Float.infinity
        for j in lower..<upper where row[j] > maximum { maximum = row[j] }
        let values = row + lower
        let n = upper - lower
        for j in 0..<n { values[j] = exp(values[j] - maximum) }
        let inv = 1 / sum(values, count: n)
        for j in 0..<n { values[j] *= inv }
        for j in 0..<lower { row[j] = 0 }
        for j in upper..<count { row[j] = 0 }
    }

    /// `Σ x[i]` with SIMD accumulators.
    @inline(__always)
    static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var acc = SIMD8<Float>()
        var i = 0
        let raw = UnsafeRawPointer(x)
        while i + 8 <= count {
            acc += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        var total = acc.sum()
        while i < count {
            total += x[i]
            i += 1
        }
        return total
    }

    /// `e^x` in float32 to about 2 ulp, branch-free so that loops calling it vectorise:
    /// range reduction `x = n·ln2 + r` (round-to-nearest by the 1.5·2²³ trick), a degree-7
    /// polynomial for `e^r` (Cephes coefficients), and `2^n` assembled in the exponent bits.
    /// Inputs are clamped to [−87, 88], where the result stays a normal float.
    @inline(__always)
    static func exp(_ x: Float) -> Float {
        let c = Swift.min(Swift.max(x, -87), 88)
        let shifted = c * 1.442_695_04 + 12_582_912
        let n = shifted - 12_582_912
        var r = c - n * 0.693_359_375
        r = r + n * 2.121_944_4e-4
        var p: Float = 1.987_569_15e-4
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_6e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_1e-1
        p = p * (r * r) + r + 1
        let bits = (shifted.bitPattern &- 0x4B40_0000 &+ 127) &<< 23
        return p * Float(bitPattern: bits)
    }
}
