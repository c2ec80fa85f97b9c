import EmbeddingGemma

extension EmbeddingRequest {
    /// Tokens the request weighs in scheduling: a tokenized input's count, or a text's length / 3
    /// plus 10 for its prompt and special tokens.
    var estimatedTokens: Int {
        switch input {
        case .tokens(let tokens): return tokens.count
        case .text(let text): return text.utf8.count / 3 + 10
        }
    }
}
