/// The `input` of an embedding request: one string, a list of strings, or token ids (a list of
/// integers or of lists), which OpenAI clients send by default and which cannot be mapped to
/// Gemma's vocabulary.
enum EmbeddingInput: Decodable, Sendable {
    case texts([String])
    case tokenIds

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self = .texts([text])
        } else if let texts = try? container.decode([String].self) {
            self = .texts(texts)
        } else if (try? container.decode([Int].self)) != nil || (try? container.decode([[Int]].self)) != nil {
            self = .tokenIds
        } else {
            throw DecodingError.typeMismatch(String.self, .init(codingPath: decoder.codingPath,
                                                                debugDescription: "input must be a string or an array of strings"))
        }
    }
}
