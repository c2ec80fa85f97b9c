import EmbeddingGemma

/// The model a head was trained with (or example vectors were embedded with): what is checked
/// before the head is used, since vectors of another model mean nothing to it.
public struct ModelIdentity: Codable, Sendable, Hashable, CustomStringConvertible {
    /// ``EmbeddingGemma/EmbeddingModel/fingerprint``: equal for models that compute the same vectors.
    public var fingerprint: String
    /// The weight encoding (`f32`, `q8_0`, `q4_0`, ...).
    public var quantization: String
    /// Where the model was loaded from (informative: the fingerprint decides).
    public var path: String

    public init(fingerprint: String, quantization: String, path: String) {
        self.fingerprint = fingerprint
        self.quantization = quantization
        self.path = path
    }

    /// The identity of `model`.
    public init(_ model: EmbeddingModel) {
        self.init(fingerprint: model.fingerprint, quantization: model.quantization.rawValue, path: model.sourcePath)
    }

    /// Whether vectors of `other` are vectors of this model.
    public func matches(_ other: ModelIdentity) -> Bool { fingerprint == other.fingerprint }

    /// The model from where it was loaded, re-encoded in memory as it was if need be.
    /// - Throws: ``ClassifyError/model(index:_:)`` when it does not load,
    ///   ``ClassifyError/modelMismatch(stored:given:)`` when what loads has another fingerprint.
    public func load() throws(ClassifyError) -> EmbeddingModel {
        let model: EmbeddingModel
        do {
            let base = try EmbeddingModel(path: path)
            let stored = QuantizationType(rawValue: quantization)
            model = stored == nil || base.quantization == stored ? base : try base.converted(to: stored ?? base.quantization)
        } catch {
            throw .model(index: nil, error)
        }
        let loaded = ModelIdentity(model)
        guard matches(loaded) else { throw .modelMismatch(stored: self, given: loaded) }
        return model
    }

    /// `the model at PATH (q4_0, fingerprint F)`.
    public var description: String { "the model at \(path) (\(quantization), fingerprint \(fingerprint))" }
}
