/// Tensor element types of GGUF files (ggml's `ggml_type`), with their block layouts.
public enum GGMLType: UInt32, Sendable, CaseIterable {
    /// IEEE float32.
    case f32 = 0
    /// IEEE float16.
    case f16 = 1
    /// 4-bit, blocks of 32 with a float16 scale.
    case q4_0 = 2
    /// 4-bit, blocks of 32 with a float16 scale and minimum.
    case q4_1 = 3
    /// 5-bit, blocks of 32 with a float16 scale.
    case q5_0 = 6
    /// 5-bit, blocks of 32 with a float16 scale and minimum.
    case q5_1 = 7
    /// 8-bit, blocks of 32 with a float16 scale.
    case q8_0 = 8
    /// 8-bit, blocks of 32 with a float16 scale and sum.
    case q8_1 = 9
    /// 2-bit k-quant, super-blocks of 256.
    case q2_K = 10
    /// 3-bit k-quant, super-blocks of 256.
    case q3_K = 11
    /// 4-bit k-quant, super-blocks of 256.
    case q4_K = 12
    /// 5-bit k-quant, super-blocks of 256.
    case q5_K = 13
    /// 6-bit k-quant, super-blocks of 256.
    case q6_K = 14
    /// 8-bit k-quant, super-blocks of 256.
    case q8_K = 15
    /// bfloat16.
    case bf16 = 30

    /// Elements per block (1 for plain floats).
    /// Whether values are stored as Q8_0 / Q4_0 blocks with a scale (what ``GPTQ`` quantizes).
    var isBlockQuantized: Bool { self == .q8_0 || self == .q4_0 }

    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16: return 1
        case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q8_1: return 32
        case .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .q8_K: return 256
        }
    }

    /// Bytes per block.
    public var blockBytes: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        case .q4_0: return 18   // f16 scale + 16 bytes of 4-bit values
        case .q4_1: return 20   // f16 scale, f16 min + 16 bytes
        case .q5_0: return 22   // f16 scale + 4 bytes of high bits + 16 bytes
        case .q5_1: return 24
        case .q8_0: return 34   // f16 scale + 32 int8
        case .q8_1: return 36
        case .q2_K: return 84
        case .q3_K: return 110
        case .q4_K: return 144
        case .q5_K: return 176
        case .q6_K: return 210
        case .q8_K: return 292
        }
    }

    /// Bytes of a row of `elements` values, or nil if `elements` is not a whole number of blocks.
    public func rowBytes(elements: Int) -> Int? {
        guard elements >= 0, elements % blockSize == 0 else { return nil }
        let (bytes, overflow) = (elements / blockSize).multipliedReportingOverflow(by: blockBytes)
        return overflow ? nil : bytes
    }
}
