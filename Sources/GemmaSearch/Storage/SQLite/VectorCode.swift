import Foundation

/// A unit vector's 1-bit code for the first stage of dense search: the sign of each value, 64
/// dimensions per word (768 dimensions: 96 bytes instead of 3 072).
struct VectorCode: Sendable, Hashable {
    /// Sign bits, dimension `i` at bit `i % 64` of word `i / 64` (set when the value is ≥ 0).
    var signs: [UInt64]

    /// The code of `vector` (any length; sign words padded with zero bits).
    init(_ vector: [Float]) {
        signs = Self.signWords(vector)
    }

    init(signs: [UInt64]) {
        self.signs = signs
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

    /// Reads the stored form; nil when its size does not fit `dimensions`.
    init?(signBytes: Data, dimensions: Int) {
        let words = (dimensions + 63) / 64
        guard signBytes.count == words * 8 else { return nil }
        var signs = [UInt64](repeating: 0, count: words)
        signBytes.withUnsafeBytes { raw in
            for w in 0..<words {
                signs[w] = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: w * 8, as: UInt64.self))
            }
        }
        self.init(signs: signs)
    }
}
