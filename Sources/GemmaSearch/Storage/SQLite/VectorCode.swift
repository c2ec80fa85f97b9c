import Foundation

/// A unit vector compressed two ways for two-stage search: 1 bit per dimension (its sign), to
/// find candidates, and 8 bits per dimension with one scale
/// (`value ≈ scale · code`), to re-score them. 768 dimensions take 96 + 768 + 4 bytes instead of
/// 3 072.
struct VectorCode: Sendable, Hashable {
    /// Sign bits, dimension `i` at bit `i % 64` of word `i / 64` (set when the value is ≥ 0).
    var signs: [UInt64]
    /// Values divided by `scale`, rounded to the nearest integer in −127…127.
    var codes: [Int8]
    /// The largest magnitude divided by 127.
    var scale: Float

    /// Compresses `vector` (any length; sign words padded with zero bits).
    init(_ vector: [Float]) {
        signs = Self.signWords(vector)
        let largest = vector.reduce(Float(0)) { max($0, abs($1)) }
        scale = largest > 0 ? largest / 127 : 1
        let inverse = 1 / scale
        codes = vector.map { Int8(max(-127, min(127, ($0 * inverse).rounded()))) }
    }

    init(signs: [UInt64], codes: [Int8], scale: Float) {
        self.signs = signs
        self.codes = codes
        self.scale = scale
    }

    /// The sign bits of `vector` as 64-bit words.
    static func signWords(_ vector: [Float]) -> [UInt64] {
        var words = [UInt64](repeating: 0, count: (vector.count + 63) / 64)
        for (i, value) in vector.enumerated() where value >= 0 {
            words[i >> 6] |= 1 << UInt64(i & 63)
        }
        return words
    }

    /// The sign words as little-endian bytes (the stored form).
    var signBytes: Data {
        var data = Data(capacity: signs.count * 8)
        for word in signs {
            withUnsafeBytes(of: word.littleEndian) { data.append(contentsOf: $0) }
        }
        return data
    }

    /// The codes as bytes (the stored form).
    var codeBytes: Data {
        codes.withUnsafeBytes { Data($0) }
    }

    /// Reads the stored form; nil when the sizes do not fit `dimensions`.
    init?(signBytes: Data, codeBytes: Data, scale: Float, dimensions: Int) {
        let words = (dimensions + 63) / 64
        guard signBytes.count == words * 8, codeBytes.count == dimensions else { return nil }
        var signs = [UInt64](repeating: 0, count: words)
        signBytes.withUnsafeBytes { raw in
            for w in 0..<words {
                signs[w] = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: w * 8, as: UInt64.self))
            }
        }
        self.init(signs: signs, codes: codeBytes.map { Int8(bitPattern: $0) }, scale: scale)
    }
}
