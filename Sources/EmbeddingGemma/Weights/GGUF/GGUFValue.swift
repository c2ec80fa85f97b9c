/// A metadata value of a GGUF file.
public enum GGUFValue: Sendable, Equatable {
    /// Type 0.
    case uint8(UInt8)
    /// Type 1.
    case int8(Int8)
    /// Type 2.
    case uint16(UInt16)
    /// Type 3.
    case int16(Int16)
    /// Type 4.
    case uint32(UInt32)
    /// Type 5.
    case int32(Int32)
    /// Type 10.
    case uint64(UInt64)
    /// Type 11.
    case int64(Int64)
    /// Type 6.
    case float32(Float)
    /// Type 12.
    case float64(Double)
    /// Type 7.
    case bool(Bool)
    /// Type 8 (UTF-8).
    case string(String)
    /// Type 9: elements of one type.
    case array([GGUFValue])

    /// The value as an integer, if it is one of the integer types (and fits).
    public var intValue: Int? {
        switch self {
        case .uint8(let v): return Int(v)
        case .int8(let v): return Int(v)
        case .uint16(let v): return Int(v)
        case .int16(let v): return Int(v)
        case .uint32(let v): return Int(v)
        case .int32(let v): return Int(v)
        case .uint64(let v): return Int(exactly: v)
        case .int64(let v): return Int(exactly: v)
        default: return nil
        }
    }

    /// The value as a floating-point number, if it is numeric.
    public var doubleValue: Double? {
        switch self {
        case .float32(let v): return Double(v)
        case .float64(let v): return v
        default: return intValue.map(Double.init)
        }
    }

    /// The value as a string, if it is one.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The elements, if the value is an array.
    public var arrayValue: [GGUFValue]? {
        if case .array(let a) = self { return a }
        return nil
    }
}
