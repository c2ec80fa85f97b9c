/// Element types a safetensors file may declare that this engine can read.
public enum TensorDType: String, Sendable, CaseIterable {
    /// IEEE 754 single precision.
    case float32 = "F32"
    /// IEEE 754 half precision (converted to float32 on load).
    case float16 = "F16"
    /// bfloat16 (converted to float32 on load).
    case bfloat16 = "BF16"
    /// 64-bit signed integers (token ids and indices in reference files; not weights).
    case int64 = "I64"

    /// Size of one element in bytes.
    public var byteSize: Int {
        switch self {
        case .float32: return 4
        case .float16, .bfloat16: return 2
        case .int64: return 8
        }
    }
}
