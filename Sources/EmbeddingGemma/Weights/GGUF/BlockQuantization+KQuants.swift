/// Decoding of the GGUF encodings that llama.cpp's quantizer writes besides Q8_0 / Q4_0: the
/// legacy Q4_1, Q5_0, Q5_1 blocks of 32 and the k-quants Q4_K, Q5_K, Q6_K (super-blocks of 256).
/// Every value is computed as ggml's reference dequantizer computes it (float32 products in the
/// same order, no fused multiply-add), so the floats equal ggml's and gguf-py's bit for bit.
extension BlockQuantization {
    /// Every type ``decode(_:count:type:into:)`` reads.
    public static let decodableTypes: Set<GGMLType> = supportedTypes.union([.q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K])

    /// The float values of `count` values of `type` stored in `bytes`.
    /// - Throws: ``EmbeddingGemmaError/invalidInput(_:)`` for a type this engine cannot decode,
    ///   or if `bytes` does not hold exactly `count` values.
    public static func dequantize(_ bytes: UnsafeRawBufferPointer, count: Int, type: GGMLType) throws(EmbeddingGemmaError) -> [Float] {
        guard decodableTypes.contains(type) else { throw .invalidInput("decoding \(type) is not supported") }
        guard let size = type.rowBytes(elements: count), size == bytes.count else {
            throw .invalidInput("\(bytes.count) bytes do not hold \(count) values of \(type)")
        }
        var out = [Float](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { target in
            guard let t = target.baseAddress, let s = bytes.baseAddress else { return }
            decode(s, count: count, type: type, into: t)
        }
        return out
    }

    /// Decodes the types beyond ``supportedTypes`` (`count` a multiple of the type's block size).
    static func decodeExtended(_ bytes: UnsafeRawPointer, count: Int, type: GGMLType, into out: UnsafeMutablePointer<Float>) {
        let blocks = count / type.blockSize
        for block in 0..<blocks {
            let base = bytes + block * type.blockBytes
            let y = out + block * type.blockSize
            switch type {
            case .q4_1: decodeQ4_1(base, into: y)
            case .q5_0: decodeQ5(base, into: y, hasMinimum: false)
            case .q5_1: decodeQ5(base, into: y, hasMinimum: true)
            case .q4_K: decodeQ4_K(base, into: y)
            case .q5_K: decodeQ5_K(base, into: y)
            case .q6_K: decodeQ6_K(base, into: y)
            default: preconditionFailure("decoding \(type) is not supported")
            }
        }
    }

    private static func half(_ base: UnsafeRawPointer, _ offset: Int) -> Float {
        HalfFloat.toFloat(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }

    /// Q4_1: `d`, `m` (float16), 16 bytes of nibbles; value = q·d + m.
    private static func decodeQ4_1(_ base: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>) {
        let d = half(base, 0), m = half(base, 2)
        let q = (base + 4).assumingMemoryBound(to: UInt8.self)
        for j in 0..<16 {
            y[j] = Float(q[j] & 0x0F) * d + m
            y[j + 16] = Float(q[j] >> 4) * d + m
        }
    }

    /// Q5_0 / Q5_1: `d` (and `m`), 32 high bits, 16 bytes of low nibbles; value = (q − 16)·d, or q·d + m.
    private static func decodeQ5(_ base: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>, hasMinimum: Bool) {
        let d = half(base, 0)
        let m = hasMinimum ? half(base, 2) : 0
        let header = hasMinimum ? 4 : 2
        let qh = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: header, as: UInt32.self))
        let q = (base + header + 4).assumingMemoryBound(to: UInt8.self)
        for j in 0..<16 {
            let high0 = UInt8(truncatingIfNeeded: ((qh >> UInt32(j)) << 4) & 0x10)
            let high1 = UInt8(truncatingIfNeeded: (qh >> UInt32(j + 12)) & 0x10)
            let x0 = Int32((q[j] & 0x0F) | high0), x1 = Int32((q[j] >> 4) | high1)
            if hasMinimum {
                y[j] = Float(x0) * d + m
                y[j + 16] = Float(x1) * d + m
            } else {
                y[j] = Float(x0 - 16) * d
                y[j + 16] = Float(x1 - 16) * d
            }
        }
    }

    /// The 6-bit scale and minimum of sub-block `j` (0..<8) from a k-quant's 12 packed bytes.
    private static func scaleAndMinimum(_ j: Int, _ q: UnsafePointer<UInt8>) -> (Float, Float) {
        if j < 4 {
            return (Float(q[j] & 63), Float(q[j + 4] & 63))
        }
        return (Float((q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4)), Float((q[j + 4] >> 4) | ((q[j] >> 6) << 4)))
    }

    /// Q4_K: `d`, `dmin` (float16), 12 bytes of 6-bit scales and minimums for 8 sub-blocks of 32,
    /// 128 bytes of nibbles; value = (d·scale)·q − dmin·min.
    private static func decodeQ4_K(_ base: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>) {
        let d = half(base, 0), dmin = half(base, 2)
        let scales = (base + 4).assumingMemoryBound(to: UInt8.self)
        var q = (base + 16).assumingMemoryBound(to: UInt8.self)
        var out = y
        for pair in 0..<4 {
            let (s1, m1) = scaleAndMinimum(2 * pair, scales), (s2, m2) = scaleAndMinimum(2 * pair + 1, scales)
            let d1 = d * s1, min1 = dmin * m1, d2 = d * s2, min2 = dmin * m2
            for l in 0..<32 { out[l] = d1 * Float(q[l] & 0x0F) - min1 }
            for l in 0..<32 { out[32 + l] = d2 * Float(q[l] >> 4) - min2 }
            out += 64
            q += 32
        }
    }

    /// Q5_K: as Q4_K plus 32 bytes holding each value's fifth bit.
    private static func decodeQ5_K(_ base: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>) {
        let d = half(base, 0), dmin = half(base, 2)
        let scales = (base + 4).assumingMemoryBound(to: UInt8.self)
        let qh = (base + 16).assumingMemoryBound(to: UInt8.self)
        var ql = (base + 48).assumingMemoryBound(to: UInt8.self)
        var out = y
        var u1: UInt8 = 1, u2: UInt8 = 2
        for pair in 0..<4 {
            let (s1, m1) = scaleAndMinimum(2 * pair, scales), (s2, m2) = scaleAndMinimum(2 * pair + 1, scales)
            let d1 = d * s1, min1 = dmin * m1, d2 = d * s2, min2 = dmin * m2
            for l in 0..<32 { out[l] = d1 * Float((ql[l] & 0x0F) + (qh[l] & u1 != 0 ? 16 : 0)) - min1 }
            for l in 0..<32 { out[32 + l] = d2 * Float((ql[l] >> 4) + (qh[l] & u2 != 0 ? 16 : 0)) - min2 }
            out += 64
            ql += 32
            u1 <<= 2
            u2 <<= 2
        }
    }

    /// Q6_K: 128 bytes of low nibbles, 64 bytes of high 2-bit pairs, 16 int8 scales, `d` (float16);
    /// value = (d·scale)·(q − 32).
    private static func decodeQ6_K(_ base: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>) {
        let d = half(base, 208)
        var ql = base.assumingMemoryBound(to: UInt8.self)
        var qh = (base + 128).assumingMemoryBound(to: UInt8.self)
        var sc = (base + 192).assumingMemoryBound(to: Int8.self)
        var out = y
        for _ in 0..<2 {
            for l in 0..<32 {
                let s = l / 16
                let q1 = Int32((ql[l] & 0x0F) | ((qh[l] & 3) << 4)) - 32
                let q2 = Int32((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32
                let q3 = Int32((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32
                let q4 = Int32((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32
                out[l] = d * Float(sc[s]) * Float(q1)
                out[l + 32] = d * Float(sc[s + 2]) * Float(q2)
                out[l + 64] = d * Float(sc[s + 4]) * Float(q3)
                out[l + 96] = d * Float(sc[s + 6]) * Float(q4)
            }
            out += 128
            ql += 64
            qh += 32
            sc += 8
        }
    }
}
