import EmbeddingGemma
import Foundation

/// Sampling and length settings shared by the generation routes, checked and turned into the
/// engine's ``GenerationOptions``.
///
/// Unset settings take Gemma 3's recommended sampling (temperature 1, top-k 64, top-p 0.95), as
/// Ollama's `gemma3` models do; temperature 0 is greedy decoding. Without a token limit the
/// answer may fill what the context leaves after the prompt.
struct GenerationSettings {
    var maxTokens: Int?
    var temperature: Double?
    var topK: Int?
    var topP: Double?
    var seed: Int?
    var stop: [String] = []

    /// The engine's options for `prompt` on `generator`.
    /// - Throws: ``APIError`` 400 naming the setting out of range.
    func options(prompt: String, generator: TextGenerator, names: Names) throws(APIError) -> GenerationOptions {
        if let maxTokens, maxTokens < 1 { throw APIError(.badRequest, "\(names.maxTokens) must be at least 1", param: names.maxTokens) }
        if let maxTokens, maxTokens >= generator.contextLength {
            throw APIError(.badRequest, "\(names.maxTokens) \(maxTokens) leaves no room for the prompt in the context of \(generator.contextLength) tokens",
                           param: names.maxTokens)
        }
        if let temperature, !(temperature >= 0 && temperature <= 100) {
            throw APIError(.badRequest, "temperature must be between 0 and 100 (0: greedy)", param: "temperature")
        }
        if let topK, topK < 0 { throw APIError(.badRequest, "top_k must be 0 or more", param: "top_k") }
        if let topP, !(topP > 0 && topP <= 1) { throw APIError(.badRequest, "top_p must be in (0, 1]", param: "top_p") }
        if stop.count > 16 { throw APIError(.badRequest, "at most 16 stop sequences", param: "stop") }
        let promptCount = generator.promptTokens(prompt).count
        // Without a limit: what the context leaves after the prompt, or a quarter of the context
        // when the prompt fills it (its front is then dropped).
        let room = generator.contextLength - promptCount
        let limit = maxTokens ?? (room >= 16 ? room : generator.contextLength / 4)
        let seedValue = seed.map { UInt64(bitPattern: Int64($0)) } ?? UInt64.random(in: 0...UInt64.max)
        return GenerationOptions(maxTokens: limit, temperature: temperature ?? 1, topK: topK ?? 64, topP: topP ?? 0.95, seed: seedValue,
                                 stopSequences: stop)
    }

    /// How the API at hand names the token limit.
    struct Names {
        var maxTokens: String
    }
}

/// `stop`: one string or a list of strings.
enum StopField: Decodable, Sendable {
    case list([String])

    var values: [String] {
        switch self {
        case .list(let values): values
        }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .list([])
        } else if let one = try? container.decode(String.self) {
            self = .list([one])
        } else if let many = try? container.decode([String].self) {
            self = .list(many)
        } else {
            throw DecodingError.typeMismatch(String.self, .init(codingPath: decoder.codingPath, debugDescription: "stop must be a string or an array of strings"))
        }
    }
}

/// A JSON value whose content is not read, only whether it was given (fields such as `tools`,
/// `format` or `images` that this server refuses rather than ignores).
struct PresenceField: Decodable, Sendable {
    /// False for `null`, `false`, `""`, `[]` and `{}`.
    let isSet: Bool

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            isSet = false
        } else if let flag = try? container.decode(Bool.self) {
            isSet = flag
        } else if let text = try? container.decode(String.self) {
            isSet = !text.isEmpty
        } else if let list = try? container.decode([PresenceField].self) {
            isSet = !list.isEmpty
        } else if let object = try? container.decode([String: PresenceField].self) {
            isSet = !object.isEmpty
        } else {
            isSet = true
        }
    }
}

/// Time stamps and identifiers of generation responses.
enum GenerationClock {
    /// `2026-12-02T07:04:03.123456Z`, Ollama's `created_at`.
    static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }

    /// Nanoseconds, Ollama's durations.
    static func nanoseconds(_ duration: Duration) -> Int {
        let parts = duration.components
        return Int(parts.seconds) * 1_000_000_000 + Int(parts.attoseconds / 1_000_000_000)
    }
}
