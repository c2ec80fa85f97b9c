#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Precomputed cos/sin of rotary position embeddings for one base frequency.
struct RotaryTable: Sendable {
    /// `[positions × headDim/2]` cosines.
    let cos: FloatStorage
    /// `[positions × headDim/2]` sines.
    let sin: FloatStorage

    /// Tables for positions `0..<positions`, following the reference: inverse frequencies
    /// `base^(-2i/headDim)` (divided by `linearScaling`, RoPE's linear scaling) and angles
    /// `position · inverseFrequency`, both in float32.
    init(base: Double, headDim: Int, positions: Int, linearScaling: Double = 1) {
        let half = headDim / 2
        let inverse = (0..<half).map { i in Float(1.0 / pow(base, Double(2 * i) / Double(headDim))) / Float(linearScaling) }
        cos = FloatStorage(count: positions * half) { out in
            for p in 0..<positions {
                for i in 0..<half { out[p * half + i] = Float(cosine(Double(Float(p) * inverse[i]))) }
            }
        }
        sin = FloatStorage(count: positions * half) { out in
            for p in 0..<positions {
                for i in 0..<half { out[p * half + i] = Float(sine(Double(Float(p) * inverse[i]))) }
            }
        }
    }
}

extension RotaryTable {
    /// The inverse rotation (negated sines): the backward pass of RoPE.
    var inverse: RotaryTable {
        let sines = sin
        return RotaryTable(cos: cos, sin: FloatStorage(count: sines.count) { out in
            for i in 0..<sines.count { out[i] = -sines.pointer[i] }
        })
    }

    private init(cos: FloatStorage, sin: FloatStorage) {
        self.cos = cos
        self.sin = sin
    }
}

private func cosine(_ x: Double) -> Double { cos(x) }
private func sine(_ x: Double) -> Double { sin(x) }
