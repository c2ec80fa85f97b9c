/// Every failure the library reports, each with a message a user can act on.
public enum EmbeddingGemmaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The model folder (or one of its required files) does not exist.
    case modelNotFound(path: String, hint: String)
    /// A model file exists but cannot be read or is malformed.
    case corruptModelFile(path: String, reason: String)
    /// A GGUF file without the sentence-transformers Dense head (`missingTensors`), loaded without
    /// `allowMissingHead`: it cannot produce EmbeddingGemma embeddings.
    case missingDenseHead(path: String, missingTensors: [String])
    /// A configuration file is missing a field or holds a value this engine does not support.
    case unsupportedConfiguration(String)
    /// The tokenizer file is malformed.
    case invalidTokenizer(path: String, reason: String)
    /// A prompt name that the model's `config_sentence_transformers.json` does not define.
    case unknownPrompt(name: String, available: [String])
    /// A Matryoshka dimension other than 768, 512, 256 or 128.
    case unsupportedDimensions(Int, supported: [Int])
    /// A text that tokenizes to more tokens than the model accepts, with truncation turned off.
    case inputTooLong(index: Int, tokens: Int, limit: Int)
    /// Bytes that are not valid UTF-8.
    case invalidUTF8(String)
    /// A request that cannot be served as asked (empty list, bad vector sizes, ...).
    case invalidInput(String)

    /// A message that says what went wrong and what to do about it.
    public var description: String {
        switch self {
        case let .modelNotFound(path, hint):
            return "model not found at \(path). \(hint)"
        case let .corruptModelFile(path, reason):
            if path.hasSuffix(".safetensors") || path.hasSuffix(".json") {
                return "model file \(path) is unusable: \(reason). Delete the model folder and fetch it again (scripts/fetch-model.sh)."
            }
            return "model file \(path) is unusable: \(reason). Write it again or fetch it again."
        case let .missingDenseHead(path, missing):
            return "\(path) lacks the sentence-transformers Dense head (missing tensors: \(missing.joined(separator: ", "))), "
                + "so it cannot produce EmbeddingGemma embeddings. Convert the model with its Dense modules "
                + "(llama.cpp's converter has an option for them, and this package's GGUF writer keeps them), "
                + "or load it allowing a missing head to use the mean-pooled hidden state instead"
        case let .unsupportedConfiguration(message):
            return "unsupported model configuration: \(message)"
        case let .invalidTokenizer(path, reason):
            return "tokenizer \(path) is unusable: \(reason)"
        case let .unknownPrompt(name, available):
            return "unknown prompt name '\(name)'; the model defines: \(available.sorted().joined(separator: ", "))"
        case let .unsupportedDimensions(value, supported):
            return "unsupported dimensions \(value); choose one of \(supported.map(String.init).joined(separator: ", "))"
        case let .inputTooLong(index, tokens, limit):
            return "input \(index) has \(tokens) tokens, more than the model's limit of \(limit); shorten it or allow truncation"
        case let .invalidUTF8(message):
            return "invalid UTF-8: \(message)"
        case let .invalidInput(message):
            return "invalid input: \(message)"
        }
    }
}
