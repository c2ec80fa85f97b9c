/// GGUF's block quantization formats, byte for byte as ggml writes them:
/// - Q8_0: blocks of 32 values as one float16 scale `d = max|x| / 127` and 32 int8 `round(x / d)`;
/// - Q4_0: blocks of 32 values as one float16 scale `d = m / −8` (m: the value of largest magnitude,
///   sign kept) and 16 bytes of 4-bit codes `min(15, trunc(x / d + 8.5))`, value i in the low nibble of
///   byte i and value 16 + i in its high nibble; a code c stands for `(c − 8) · d`.
public enum BlockQuantization {
    /// Values per block.
    public static let blockSize = 32

    /// Quantizes `values` to Q8_0 blocks.
    /// - Throws: ``EmbeddingGemmaError/invalidInput(_:)`` unless the count is a multiple of 32.
    public static func quantizeQ8_0(_ values: [Float]) throws(EmbeddingGemmaError) -> [UInt8] {
        try checkBlocks(values.count)
        var out = [UInt8]()
        out.reserveCapacity(values.count / blockSize * GGMLType.q8_0.blockBytes)
        for start in stride(from: 0, to: values.count, by: blockSize) {
            var amax: Float = 0
            for x in values[start..<(start + blockSize)] { amax = max(amax, abs(x)) }
            let d = amax / 127
            let inverse: Float = d != 0 ? 1 / d : 0
            appendHalf(d, to: &out)
            for x in values[start..<(start + blockSize)] {
                out.append(UInt8(bitPattern: Int8((x * inverse).rounded(.toNearestOrAwayFromZero))))
            }
        }
        return out
    }

    /// Quantizes `values` to Q4_0 blocks.
    /// - Throws: ``EmbeddingGemmaError/invalidInput(_:)`` unless the count is a multiple of 32.
    public static func quantizeQ4_0(_ values: [Float]) throws(EmbeddingGemmaError) -> [UInt8] {
        try checkBlocks(values.count)
        var out = [UInt8]()
        out.reserveCapacity(values.count / blockSize * GGMLType.q4_0.blockBytes)
        for start in stride(from: 0, to: values.count, by: blockSize) {
            var amax: Float = 0
            var extreme: Float = 0
            for x in values[start..<(start + blockSize)] where amax < abs(x) {
                amax = abs(x)
                extreme = x
            }
            let d = extreme / -8
            let inverse: Float = d != 0 ? 1 / d : 0
            appendHalf(d, to: &out)
            func code(_ x: Float) -> UInt8 {
                let shifted = x * inverse + 8.5
                return UInt8(min(15, max(0, Int(shifted))))
            }
            for j in 0..<(blockSize / 2) {
                out.append(code(values[start + j]) | code(values[start + j + blockSize / 2]) << 4)
            }
        }
        return out
    }

    /// The float values of `count` Q8_0-encoded values.
    /// - Throws: ``EmbeddingGemmaError/invalidInput(_:)`` if `bytes` does not hold `count` values.
    public static func dequantizeQ8_0(_ bytes: UnsafeRawBufferPointer, count: Int) throws(EmbeddingGemmaError) -> [Float] {
        try checkBlocks(count, bytes: bytes.count, type: .q8_0)
        var out = [Float](repeating: 0, count: count)
        for block in 0..<(count / blockSize) {
            let base = block * GGMLType.q8_0.blockBytes
            let d = HalfFloat.toFloat(bytes.loadUnaligned(fromByteOffset: base, as: UInt16.self).littleEndian)
            for i in 0..<blockSize {
                out[block * blockSize + i] = d * Float(Int8(bitPattern: bytes[base + 2 + i]))
            }
        }
        return out
    }

    /// The float values of `count` Q4_0-encoded values.
    /// - Throws: ``EmbeddingGemmaError/invalidInput(_:)`` if `bytes` does not hold `count` values.
    public static func dequantizeQ4_0(_ bytes: UnsafeRawBufferPointer, count: Int) throws(EmbeddingGemmaError) -> [Float] {
        try checkBlocks(count, bytes: bytes.count, type: .q4_0)
        var out = [Float](repeating: 0, count: count)
        for block in 0..<(count / blockSize) {
            let base = block * GGMLType.q4_0.blockBytes
            let d = HalfFloat.toFloat(bytes.loadUnaligned(fromByteOffset: base, as: UInt16.self).littleEndian)
            for j in 0..<(blockSize / 2) {
                let byte = bytes[base + 2 + j]
                out[block * blockSize + j] = d * Float(Int(byte & 0x0F) - 8)
                out[block * blockSize + j + blockSize / 2] = d * Float(Int(byte >> 4) - 8)
            }
        }
        return out
    }

    private static func checkBlocks(_ count: Int, bytes: Int? = nil, type: GGMLType? = nil) throws(EmbeddingGemmaError) {
        guard count >= 0, count % blockSize == 0 else {
            throw .invalidInput("block quantization needs a multiple of \(blockSize) values, got \(count)")
        }
        if let bytes, let type, type.rowBytes(elements: count) != bytes {
            throw .invalidInput("\(bytes) bytes do not hold \(count) values of \(type)")
        }
    }

    private static func appendHalf(_ value: Float, to out: inout [UInt8]) {
        let bits = HalfFloat.fromFloat(value)
        out.append(UInt8(truncatingIfNeeded: bits))
        out.append(UInt8(truncatingIfNeeded: bits >> 8))
    }
}
