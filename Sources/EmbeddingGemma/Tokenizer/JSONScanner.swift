/// A minimal, allocation-light JSON reader over UTF-8 bytes.
///
/// The tokenizer file is 33 MB of JSON holding 262k vocabulary entries and 515k merges;
/// a general-purpose JSON tree would allocate millions of objects. This scanner lets the
/// loader walk the document and copy out only the bytes it needs. Every read is bounds-checked
/// and malformed input raises ``JSONScanner/Failure`` rather than trapping.
struct JSONScanner {
    /// A syntax error at a byte offset.
    struct Failure: Error, CustomStringConvertible {
        let offset: Int
        let message: String
        var description: String { "\(message) at byte \(offset)" }
    }

    private let bytes: UnsafeRawBufferPointer
    private(set) var position: Int = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    func failure(_ message: String) -> Failure {
        Failure(offset: position, message: message)
    }

    /// Skips spaces, tabs, carriage returns and newlines.
    mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    /// The next non-whitespace byte, without consuming it.
    mutating func peek() throws(Failure) -> UInt8 {
        skipWhitespace()
        guard position < bytes.count else { throw failure("unexpected end of JSON") }
        return bytes[position]
    }

    /// Consumes `byte` (after whitespace) or fails.
    mutating func expect(_ byte: UInt8) throws(Failure) {
        let found = try peek()
        guard found == byte else {
            throw failure("expected '\(Character(Unicode.Scalar(byte)))', found '\(Character(Unicode.Scalar(found)))'")
        }
        position += 1
    }

    /// Whether the whole input was consumed (trailing whitespace allowed).
    mutating func isAtEnd() -> Bool {
        skipWhitespace()
        return position == bytes.count
    }

    /// Reads a JSON string, appending its decoded UTF-8 bytes to `output` (which is cleared first).
    mutating func readString(into output: inout [UInt8]) throws(Failure) {
        output.removeAll(keepingCapacity: true)
        try expect(UInt8(ascii: "\""))
        while true {
            // Copy the run of plain characters up to the next quote, backslash or control byte at once.
            let runStart = position
            while position < bytes.count {
                let b = bytes[position]
                if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") || b < 0x20 { break }
                position += 1
            }
            if position > runStart {
                output.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<position]))
            }
            guard position < bytes.count else { throw failure("unterminated string") }
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                return
            case UInt8(ascii: "\\"):
                guard position < bytes.count else { throw failure("unterminated escape") }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""): output.append(0x22)
                case UInt8(ascii: "\\"): output.append(0x5C)
                case UInt8(ascii: "/"): output.append(0x2F)
                case UInt8(ascii: "b"): output.append(0x08)
                case UInt8(ascii: "f"): output.append(0x0C)
                case UInt8(ascii: "n"): output.append(0x0A)
                case UInt8(ascii: "r"): output.append(0x0D)
                case UInt8(ascii: "t"): output.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try readHex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        // A high surrogate must be followed by an escaped low surrogate.
                        guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
                              bytes[position + 1] == UInt8(ascii: "u") else {
                            throw failure("unpaired surrogate in \\u escape")
                        }
                        position += 2
                        let low = try readHex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw failure("invalid low surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        throw failure("unpaired low surrogate in \\u escape")
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw failure("invalid \\u escape") }
                    if let encoded = UTF8.encode(unicode) { output.append(contentsOf: encoded) }
                default:
                    throw failure("invalid escape character")
                }
            default:
                if byte < 0x20 { throw failure("control character in string") }
                output.append(byte)
            }
        }
    }

    private mutating func readHex4() throws(Failure) -> UInt32 {
        guard position + 4 <= bytes.count else { throw failure("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[position]
            position += 1
            let digit: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw failure("invalid hex digit in \\u escape")
            }
            value = value << 4 | digit
        }
        return value
    }

    /// Reads an integer (no fraction or exponent).
    mutating func readInteger() throws(Failure) -> Int {
        _ = try peek()
        var negative = false
        if bytes[position] == UInt8(ascii: "-") {
            negative = true
            position += 1
        }
        var value = 0
        var digits = 0
        while position < bytes.count, bytes[position] >= UInt8(ascii: "0"), bytes[position] <= UInt8(ascii: "9") {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int(bytes[position] - UInt8(ascii: "0")))
            guard !o1, !o2 else { throw failure("integer out of range") }
            value = a
            digits += 1
            position += 1
        }
        guard digits > 0 else { throw failure("expected an integer") }
        if position < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[position]) {
            throw failure("expected an integer, found a fraction")
        }
        return negative ? -value : value
    }

    /// Reads `true` or `false`.
    mutating func readBool() throws(Failure) -> Bool {
        let c = try peek()
        if c == UInt8(ascii: "t"), matchLiteral("true") { return true }
        if c == UInt8(ascii: "f"), matchLiteral("false") { return false }
        throw failure("expected a boolean")
    }

    /// Consumes `null` if it is next; returns whether it did.
    mutating func readNullIfPresent() throws(Failure) -> Bool {
        let c = try peek()
        return c == UInt8(ascii: "n") && matchLiteral("null")
    }

    private mutating func matchLiteral(_ literal: String) -> Bool {
        let expected = Array(literal.utf8)
        let count = expected.count
        guard position + count <= bytes.count else { return false }
        for i in 0..<count where bytes[position + i] != expected[i] { return false }
        position += count
        return true
    }

    /// Iterates an object's members: `body` gets each key and must consume its value.
    mutating func readObject(_ body: (inout JSONScanner, [UInt8]) throws(Failure) -> Void) throws(Failure) {
        try expect(UInt8(ascii: "{"))
        if try peek() == UInt8(ascii: "}") {
            position += 1
            return
        }
        var key: [UInt8] = []
        while true {
            try readString(into: &key)
            try expect(UInt8(ascii: ":"))
            try body(&self, key)
            let c = try peek()
            position += 1
            if c == UInt8(ascii: "}") { return }
            guard c == UInt8(ascii: ",") else { position -= 1; throw failure("expected ',' or '}' in object") }
        }
    }

    /// Iterates an array's elements: `body` must consume each element.
    mutating func readArray(_ body: (inout JSONScanner) throws(Failure) -> Void) throws(Failure) {
        try expect(UInt8(ascii: "["))
        if try peek() == UInt8(ascii: "]") {
            position += 1
            return
        }
        while true {
            try body(&self)
            let c = try peek()
            position += 1
            if c == UInt8(ascii: "]") { return }
            guard c == UInt8(ascii: ",") else { position -= 1; throw failure("expected ',' or ']' in array") }
        }
    }

    /// Skips any JSON value, checking its syntax.
    mutating func skipValue(depth: Int = 0) throws(Failure) {
        guard depth < 512 else { throw failure("JSON nested too deeply") }
        var scratch: [UInt8] = []
        switch try peek() {
        case UInt8(ascii: "\""):
            try readString(into: &scratch)
        case UInt8(ascii: "{"):
            try readObject { (scanner: inout JSONScanner, _: [UInt8]) throws(Failure) in try scanner.skipValue(depth: depth + 1) }
        case UInt8(ascii: "["):
            try readArray { (scanner: inout JSONScanner) throws(Failure) in try scanner.skipValue(depth: depth + 1) }
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            _ = try readBool()
        case UInt8(ascii: "n"):
            guard try readNullIfPresent() else { throw failure("invalid literal") }
        default:
            try skipNumber()
        }
    }

    private mutating func skipNumber() throws(Failure) {
        let start = position
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"),
                 UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"):
                position += 1
            default:
                guard position > start else { throw failure("unexpected character") }
                return
            }
        }
        guard position > start else { throw failure("unexpected end of JSON") }
    }
}
