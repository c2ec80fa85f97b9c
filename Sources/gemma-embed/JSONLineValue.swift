/// A JSON value of an input line, as far as the input format needs to tell values apart.
enum JSONLineValue: Decodable {
    case object([String: JSONLineValue])
    case string(String)
    case null
    /// A number, a boolean or an array.
    case other

    init(from decoder: Decoder) throws {
        if let container = try? decoder.container(keyedBy: AnyKey.self) {
            var fields: [String: JSONLineValue] = [:]
            for key in container.allKeys { fields[key.stringValue] = try container.decode(JSONLineValue.self, forKey: key) }
            self = .object(fields)
            return
        }
        if var array = try? decoder.unkeyedContainer() {
            while !array.isAtEnd { _ = try array.decode(JSONLineValue.self) }
            self = .other
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() {
            self = .null
        } else if let string = try? single.decode(String.self) {
            self = .string(string)
        } else if (try? single.decode(Double.self)) != nil || (try? single.decode(Bool.self)) != nil {
            self = .other
        } else {
            throw DecodingError.dataCorruptedError(in: single, debugDescription: "unsupported JSON value")
        }
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
