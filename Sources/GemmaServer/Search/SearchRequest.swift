import Foundation
import GemmaSearch

/// The body of `POST /api/search`, validated: every problem is a 400 naming its field.
struct SearchRequest: Sendable {
    var query: String
    var k: Int
    var path: String?
    var minScore: Float?
    var lexicalWeight: Float
    var filesOnly: Bool

    /// Longest query or question, in characters (the model reads at most 2048 tokens).
    static let maxQueryCharacters = 4096
    static let fields: Set<String> = ["query", "k", "path", "min_score", "lexical_weight", "files_only"]

    init(json: [String: Any]) throws(APIError) {
        let body = RequestFields(json, allowed: Self.fields)
        try body.checkUnknown()
        query = try body.text("query", required: true, maxCharacters: Self.maxQueryCharacters) ?? ""
        k = try body.integer("k", in: 1...100) ?? 10
        path = try body.text("path", required: false, maxCharacters: 4096)
        minScore = try body.number("min_score", in: -1...2).map(Float.init)
        lexicalWeight = try body.number("lexical_weight", in: 0...10).map(Float.init) ?? SemanticIndex.exactMatchWeight
        filesOnly = try body.boolean("files_only") ?? false
    }
}

/// The body of `POST /api/ask`, validated.
struct AskRequest: Sendable {
    var question: String
    var k: Int
    var path: String?
    var stream: Bool
    var maxTokens: Int
    var temperature: Double
    var seed: UInt64

    static let fields: Set<String> = ["question", "k", "path", "stream", "max_tokens", "temperature", "seed"]

    init(json: [String: Any]) throws(APIError) {
        let body = RequestFields(json, allowed: Self.fields)
        try body.checkUnknown()
        question = try body.text("question", required: true, maxCharacters: SearchRequest.maxQueryCharacters) ?? ""
        k = try body.integer("k", in: 1...20) ?? 4
        path = try body.text("path", required: false, maxCharacters: 4096)
        stream = try body.boolean("stream") ?? true
        maxTokens = try body.integer("max_tokens", in: 1...4096) ?? 256
        temperature = try body.number("temperature", in: 0...5) ?? 0
        seed = UInt64(try body.integer("seed", in: 0...Int.max) ?? 0)
    }
}

/// Fields of a JSON object, read with their types and ranges checked.
struct RequestFields {
    let json: [String: Any]
    let allowed: Set<String>

    init(_ json: [String: Any], allowed: Set<String>) {
        self.json = json
        self.allowed = allowed
    }

    /// A 400 naming the first field the route does not know (a misspelt option should not be ignored).
    func checkUnknown() throws(APIError) {
        if let unknown = json.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw APIError(.badRequest, "unknown field '\(unknown)'; this route takes \(allowed.sorted().joined(separator: ", "))", param: unknown)
        }
    }

    func text(_ name: String, required: Bool, maxCharacters: Int) throws(APIError) -> String? {
        guard let value = json[name], !(value is NSNull) else {
            if required { throw APIError(.badRequest, "missing field '\(name)'", param: name) }
            return nil
        }
        guard let text = value as? String else { throw APIError(.badRequest, "'\(name)' must be a string", param: name) }
        if required, !text.contains(where: { !$0.isWhitespace }) { throw APIError(.badRequest, "'\(name)' is empty", param: name) }
        guard text.count <= maxCharacters else {
            throw APIError(.badRequest, "'\(name)' has \(text.count) characters; the limit is \(maxCharacters)", param: name)
        }
        guard !text.contains("\u{0}") else { throw APIError(.badRequest, "'\(name)' holds a NUL character", param: name) }
        return text
    }

    func integer(_ name: String, in range: ClosedRange<Int>) throws(APIError) -> Int? {
        guard let value = json[name], !(value is NSNull) else { return nil }
        guard let number = value as? NSNumber, !Self.isBoolean(number), let integer = Int(exactly: number.doubleValue) else {
            throw APIError(.badRequest, "'\(name)' must be an integer", param: name)
        }
        guard range.contains(integer) else {
            throw APIError(.badRequest, "'\(name)' must be between \(range.lowerBound) and \(range.upperBound) (got \(integer))", param: name)
        }
        return integer
    }

    func number(_ name: String, in range: ClosedRange<Double>) throws(APIError) -> Double? {
        guard let value = json[name], !(value is NSNull) else { return nil }
        guard let number = value as? NSNumber, !Self.isBoolean(number), number.doubleValue.isFinite else {
            throw APIError(.badRequest, "'\(name)' must be a number", param: name)
        }
        guard range.contains(number.doubleValue) else {
            throw APIError(.badRequest, "'\(name)' must be between \(range.lowerBound) and \(range.upperBound) (got \(number.doubleValue))", param: name)
        }
        return number.doubleValue
    }

    func boolean(_ name: String) throws(APIError) -> Bool? {
        guard let value = json[name], !(value is NSNull) else { return nil }
        guard let number = value as? NSNumber, Self.isBoolean(number) else { throw APIError(.badRequest, "'\(name)' must be true or false", param: name) }
        return number.boolValue
    }

    /// Whether JSONSerialization read `true` / `false` (a boolean NSNumber) rather than a number.
    static func isBoolean(_ number: NSNumber) -> Bool {
        String(cString: number.objCType) == "c"
    }
}
