/// Strict UTF-8 decoding that works on every supported platform (`String(validating:as:)` needs
/// macOS 15 / iOS 18, above this package's deployment targets).
public enum UTF8Validation {
    /// The text of `bytes`, or nil if they are not well-formed UTF-8.
    public static func string<Bytes: Collection>(from bytes: Bytes) -> String? where Bytes.Element == UInt8 {
        guard isValid(bytes) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether `bytes` are well-formed UTF-8 (no overlong forms, surrogates or truncated sequences).
    public static func isValid<Bytes: Collection>(_ bytes: Bytes) -> Bool where Bytes.Element == UInt8 {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }
}
