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

    /// `the model at PATH (q4_0, fingerprint F)`.
    public var description: String { "the model at \(path) (\(quantization), fingerprint \(fingerprint))" }
}
