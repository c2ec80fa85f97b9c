import EmbeddingGemma

/// The model a ``SemanticIndex`` embeds with: the one the index was built with, or one the
/// caller chose.
public enum IndexModel: Sendable {
    /// The model the index was built with, loaded from where it was then (and re-encoded in
    /// memory as it was). A new or rebuilt index, which records none yet, takes the model
    /// `orNew` returns (called only then).
    case recorded(orNew: @Sendable () throws(EmbeddingGemmaError) -> EmbeddingModel)
    /// This model: an existing index must have been built with it, at the width asked for
    /// (unless it is rebuilt).
    case given(EmbeddingModel)

    /// The model the index was built with; a new or rebuilt index takes the default model
    /// (``EmbeddingGemma/EmbeddingModel/init(path:quantization:allowMissingHead:)`` with no arguments).
    public static var recorded: IndexModel { .recorded(orNew: { () throws(EmbeddingGemmaError) in try EmbeddingModel() }) }

    /// The model to embed with for the index at `path`, which records `stored` (nil: a new or rebuilt index).
    func load(stored: IndexMetadata?, path: String) throws(SearchError) -> EmbeddingModel {
        switch self {
        case .given(let model):
            return model
        case .recorded(let orNew):
            guard let stored else {
                do { return try orNew() } catch { throw .model(error) }
            }
            do { return try stored.loadModel() } catch { throw .recordedModelUnavailable(path: path, stored: stored, error: error) }
        }
    }
}

extension IndexMetadata {
    /// The model the index was built with, from where it was then, re-encoded in memory as it was if need be.
    func loadModel() throws(EmbeddingGemmaError) -> EmbeddingModel {
        let stored = QuantizationType(rawValue: quantization)
        let base = try EmbeddingModel(path: modelPath)
        return base.quantization == stored || stored == nil ? base : try base.converted(to: stored ?? base.quantization)
    }
}
