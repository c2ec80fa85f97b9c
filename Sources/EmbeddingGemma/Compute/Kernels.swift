#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The element-wise and row-wise steps of the encoder, over raw float32 buffers.
///
/// Each kernel works on a contiguous block of rows; callers split large batches across threads
/// with ``Parallel``. Arithmetic follows the reference's float32 order where it matters
/// (RMSNorm: `x · rsqrt(mean(x²) + eps) · (1 + w)`).
enum Kernels {
    /// RMS-normalises each row of `input` into `output` (which may alias it):
    /// `output = input · rsqrt(mean(input²) + eps) · scale`, where `scale` is `1 + weight`.
    static func rmsNorm(
        _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
        rows: Int, width: Int, scale: UnsafePointer<Float>, eps: Float
    ) {
        for r in 0..<rows {
            let x = input + r * width
            let y = output + r * width
            var sum: Float = 0
            for i in 0..<width { sum += x[i] * x[i] }
            let inv = 1 / (sum / Float(width) + eps).squareRoot()
            for i in 0..<width { y[i] = (x[i] * inv) * scale[i] }
        }
    }

    /// Adds the RMS-normalised rows of `delta` to `residual`: `residual += rmsNorm(delta) · scale`.
    static func addRMSNorm(
        _ delta: UnsafePointer<Float>, to residual: UnsafeMutablePointer<Float>,
        rows: Int, width: Int, scale: UnsafePointer<Float>, eps: Float
    ) {
        for r in 0..<rows {
            let x = delta + r * width
            let y = residual + r * width
            var sum: Float = 0
            for i in 0..<width { sum += x[i] * x[i] }
            let inv = 1 / (sum / Float(width) + eps).squareRoot()
            for i in 0..<width { y[i] += (x[i] * inv) * scale[i] }
        }
    }

    /// Rotary position embedding on `heads` heads of width `headDim` per row, in place.
    /// Row `r` has position `positions[r]`; `cos`/`sin` hold `headDim / 2` values per position.
    /// Pairs are `(i, i + headDim/2)` (the "rotate half" convention).
    static func rope(
        _ x: UnsafeMutablePointer<Float>, rows: Int, heads: Int, headDim: Int, rowStride: Int,
        positions: UnsafePointer<Int32>, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>
    ) {
        let half = headDim / 2
        for r in 0..<rows {
            let c = cos + Int(positions[r]) * half
            let s = sin + Int(positions[r]) * half
            for h in 0..<heads {
                let v = x + r * rowStride + h * headDim
                for i in 0..<half {
                    let a = v[i]
                    let b = v[i + half]
                    v[i] = a * c[i] - b * s[i]
                    v[i + half] = b * c[i] + a * s[i]
                }
            }
        }
    }

    /// `gate = gelu_tanh(gate) · up`, element-wise over `count` values.
    static func geluMultiply(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count: Int) {
        let k0: Float = 0.797_884_560_802_865_4 // sqrt(2/π)
        let k1: Float = 0.044715
        for i in 0..<count {
            let x = gate[i]
            let inner = k0 * (x + k1 * x * x * x)
            gate[i] = 0.5 * x * (1 + tanhf(inner)) * up[i]
        }
    }

    /// Softmax of `row[lower..<upper]` in place; entries outside the range are set to zero.
    static func softmax(_ row: UnsafeMutablePointer<Float>, count: Int, lower: Int, upper: Int) {
        var maximum = -Float.infinity
        for j in lower..<upper where row[j] > maximum { maximum = row[j] }
        var sum: Float = 0
        for j in lower..<upper {
            let e = expf(row[j] - maximum)
            row[j] = e
            sum += e
        }
        let inv = 1 / sum
        for j in lower..<upper { row[j] *= inv }
        for j in 0..<lower { row[j] = 0 }
        for j in upper..<count { row[j] = 0 }
    }

    /// Scales `count` values in place.
    static func scale(_ x: UnsafeMutablePointer<Float>, count: Int, by factor: Float) {
        for i in 0..<count { x[i] *= factor }
    }
}
