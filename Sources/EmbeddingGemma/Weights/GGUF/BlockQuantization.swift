/// GGUF's element encodings, byte for byte as ggml writes them:
/// - Q8_0: blocks of 32 values as one float16 scale `d = max|x| / 127` and 32 int8 `round(x / d)`;
/// - Q4_0: blocks of 32 values as one float16 scale `d = m / −8` (m: the value of largest magnitude,
///   sign kept) and 16 bytes of 4-bit codes `min(15, trunc(x / d + 8.5))`, value i in the low nibble of
///   byte i and value 16 + i in its high nibble; a code c stands for `(c − 8) · d`;
/// - F16 (IEEE half, round to nearest even) and BF16 (the high half of a float32, rounded to nearest
///   even), and F32.
public enum BlockQuantization {
    /// Values per block.
    public static let blockSize = 32

    /// Quantizes `values` to Q8_0 blocks.
    /// - Throws: ``EmbeddingGemmaError/invalidInput(_:)`` unless the count is a multiple of 32.
    public static func quantizeQ8_0(_ values: [Float]) throws(EmbeddingGemmaError) -> [UInt8] {
        try encodeArray(values, as: .q8_0)
    }

    /// Quantizes `values` to Q4_0 blocks.
    /// - Throws: ``EmbeddingGemmaError/invalidInput(_:)`` unless the count is a multiple of 32.
    public static func quantizeQ4_0(_ values: [Float]) throws(EmbeddingGemmaError) -> [UInt8] {
        try encodeArray(values, as: .q4_0)
    }

    /// The float values of `count` Q8_0-encoded values.
    /// - Throws: ``EmbeddingGemmaError/invalidInput(_:)`` if `bytes` does not hold `count` values.
    public static func dequantizeQ8_0(_ bytes: UnsafeRawBufferPointer, count: Int) throws(EmbeddingGemmaError) -> [Float] {
        try decodeArray(bytes, count: count, type: .q8_0)
    }

    /// The float values of `count` Q4_0-encoded values.
    /// - Throws: ``EmbeddingGemmaError/invalidInput(_:)`` if `bytes` does not hold `count` values.
    public static func dequantizeQ4_0(_ bytes: UnsafeRawBufferPointer, count: Int) throws(EmbeddingGemmaError) -> [Float] {
        try decodeArray(bytes, count: count, type: .q4_0)
    }

    /// Types ``encode(_:count:as:into:)`` and ``decode(_:count:type:into:)`` handle.
    static let supportedTypes: Set<GGMLType> = [.f32, .f16, .bf16, .q8_0, .q4_0]

    private static func encodeArray(_ values: [Float], as type: GGMLType) throws(EmbeddingGemmaError) -> [UInt8] {
        guard let size = type.rowBytes(elements: values.count) else {
            throw .invalidInput("block quantization needs a multiple of \(blockSize) values, got \(values.count)")
        }
        var out = [UInt8](repeating: 0, count: size)
        values.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBytes { target in
                guard let s = source.baseAddress, let t = target.baseAddress else { return }
                encode(s, count: values.count, as: type, into: t)
            }
        }
        return out
    }

    private static func decodeArray(_ bytes: UnsafeRawBufferPointer, count: Int, type: GGMLType) throws(EmbeddingGemmaError) -> [Float] {
        guard count >= 0, count % blockSize == 0 else {
            throw .invalidInput("block quantization needs a multiple of \(blockSize) values, got \(count)")
        }
        return try dequantize(bytes, count: count, type: type)
    }

    /// Encodes `count` floats (a multiple of the type's block size) as `type` into `out`,
    /// which has room for `type.rowBytes(elements: count)` bytes. `type` is one of ``supportedTypes``.
    static func encode(_ values: UnsafePointer<Float>, count: Int, as type: GGMLType, into out: UnsafeMutableRawPointer) {
        switch type {
        case .f32:
            out.copyMemory(from: values, byteCount: count * 4)
        case .f16:
            for i in 0..<count { out.storeBytes(of: HalfFloat.fromFloat(values[i]).littleEndian, toByteOffset: 2 * i, as: UInt16.self) }
        case .bf16:
            for i in 0..<count { out.storeBytes(of: brainFloat(values[i]).littleEndian, toByteOffset: 2 * i, as: UInt16.self) }
        case .q8_0:
            for block in 0..<(count / blockSize) {
                let x = values + block * blockSize
                let base = out + block * GGMLType.q8_0.blockBytes
                var amax: Float = 0
                for i in 0..<blockSize { amax = max(amax, abs(x[i])) }
                let d = amax / 127
                let inverse: Float = d != 0 ? 1 / d : 0
                base.storeBytes(of: HalfFloat.fromFloat(d).littleEndian, as: UInt16.self)
                for i in 0..<blockSize {
                    let q = (x[i] * inverse).rounded(.toNearestOrAwayFromZero)
                    base.storeBytes(of: q.isNaN ? 0 : Int8(max(-127, min(127, q))), toByteOffset: 2 + i, as: Int8.self)
                }
            }
        case .q4_0:
            for block in 0..<(count / blockSize) {
                let x = values + block * blockSize
                let base = out + block * GGMLType.q4_0.blockBytes
                var amax: Float = 0
                var extreme: Float = 0
                for i in 0..<blockSize where amax < abs(x[i]) {
                    amax = abs(x[i])
                    extreme = x[i]
                }
                let d = extreme / -8
                let inverse: Float = d != 0 ? 1 / d : 0
                base.storeBytes(of: HalfFloat.fromFloat(d).littleEndian, as: UInt16.self)
                func code(_ v: Float) -> UInt8 {
                    let shifted = v * inverse + 8.5
                    return shifted.isNaN ? 8 : UInt8(max(0, min(15, shifted.rounded(.towardZero))))
                }
                for j in 0..<(blockSize / 2) {
                    base.storeBytes(of: code(x[j]) | code(x[j + blockSize / 2]) << 4, toByteOffset: 2 + j, as: UInt8.self)
                }
            }
        default:
            preconditionFailure("encoding \(type) is not supported")
        }
    }

    /// Decodes `count` values of `type` (one of ``supportedTypes``) from `bytes` into `out`.
    static func decode(_ bytes: UnsafeRawPointer, count: Int, type: GGMLType, into out: UnsafeMutablePointer<Float>) {
        switch type {
        case .f32:
            UnsafeMutableRawPointer(out).copyMemory(from: bytes, byteCount: count * 4)
        case .f16:
            for i in 0..<count { out[i] = HalfFloat.toFloat(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
        case .bf16:
            for i in 0..<count {
                out[i] = float(brainFloat: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
            }
        case .q8_0:
            for block in 0..<(count / blockSize) {
                let base = bytes + block * GGMLType.q8_0.blockBytes
                let d = HalfFloat.toFloat(UInt16(littleEndian: base.loadUnaligned(as: UInt16.self)))
                let q = (base + 2).assumingMemoryBound(to: Int8.self)
                let y = out + block * blockSize
                for i in 0..<blockSize { y[i] = d * Float(q[i]) }
            }
        case .q4_0:
            for block in 0..<(count / blockSize) {
                let base = bytes + block * GGMLType.q4_0.blockBytes
                let d = HalfFloat.toFloat(UInt16(littleEndian: base.loadUnaligned(as: UInt16.self)))
                let q = (base + 2).assumingMemoryBound(to: UInt8.self)
                let y = out + block * blockSize
                for j in 0..<(blockSize / 2) {
                    y[j] = d * Float(Int32(q[j] & 0x0F) - 8)
                    y[j + blockSize / 2] = d * Float(Int32(q[j] >> 4) - 8)
                }
            }
        default:
            decodeExtended(bytes, count: count, type: type, into: out)
        }
    }

    /// bfloat16 bits of `value`: round to nearest even, NaN kept quiet (as gguf-py does).
    static func brainFloat(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(bits >> 16) | 0x40 }
        return UInt16(truncatingIfNeeded: (bits &+ (0x7FFF + ((bits >> 16) & 1))) >> 16)
    }

    /// The float whose bfloat16 bits are `bits` (exact: bf16 is the high half of a float32).
    static func float(brainFloat bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }
}
