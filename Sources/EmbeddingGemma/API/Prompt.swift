/// Which instruction prefix to put before a text, as sentence-transformers does.
public enum Prompt: Sendable, Hashable {
    /// No prefix (EmbeddingGemma's default: its `default_prompt_name` is null).
    case none
    /// A prompt defined by name in the model's `config_sentence_transformers.json`
    /// (`query`, `document`, `STS`, `Clustering`, ...).
    case named(String)
    /// A literal prefix, used as given.
    case literal(String)
}
