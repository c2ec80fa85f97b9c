/// What an index was built with; stored in the index and checked on every use.
public struct IndexMetadata: Sendable, Hashable {
    /// Where the model was loaded from when the index was built (used when no model is given).
    public var modelPath: String
    /// ``EmbeddingGemma/EmbeddingModel/fingerprint`` of that model.
    public var modelFingerprint: String
    /// Its weight encoding (`f32`, `q8_0`, `q4_0`, ...).
    public var quantization: String
    /// Width of the stored vectors (Matryoshka 768, 512, 256 or 128).
    public var dimensions: Int
    /// The document prompt chunks were embedded with (`title: {title} | text: `).
    public var documentPrompt: String
    /// Most tokens of text per chunk.
    public var chunkTokens: Int
    /// Tokens repeated between chunks cut mid-paragraph.
    public var overlapTokens: Int

    /// The stored key/value pairs.
    var pairs: [String: String] {
        ["model_path": modelPath, "model_fingerprint": modelFingerprint, "quantization": quantization,
         "dimensions": String(dimensions), "document_prompt": documentPrompt,
         "chunk_tokens": String(chunkTokens), "overlap_tokens": String(overlapTokens)]
    }

    /// Reads the stored pairs; nil when a key is missing (an index that was never set up).
    init?(pairs: [String: String]) {
        guard let modelPath = pairs["model_path"], let fingerprint = pairs["model_fingerprint"],
              let quantization = pairs["quantization"], let dimensions = pairs["dimensions"].flatMap({ Int($0) }),
              let prompt = pairs["document_prompt"], let chunkTokens = pairs["chunk_tokens"].flatMap({ Int($0) }),
              let overlap = pairs["overlap_tokens"].flatMap({ Int($0) }) else { return nil }
        self.init(modelPath: modelPath, modelFingerprint: fingerprint, quantization: quantization, dimensions: dimensions,
                  documentPrompt: prompt, chunkTokens: chunkTokens, overlapTokens: overlap)
    }

    public init(modelPath: String, modelFingerprint: String, quantization: String, dimensions: Int,
                documentPrompt: String, chunkTokens: Int, overlapTokens: Int) {
        self.modelPath = modelPath
        self.modelFingerprint = modelFingerprint
        self.quantization = quantization
        self.dimensions = dimensions
        self.documentPrompt = documentPrompt
        self.chunkTokens = chunkTokens
        self.overlapTokens = overlapTokens
    }

    /// How a person recognises the model: `the model at PATH (q4_0, fingerprint F, 768 dimensions)`.
    public var modelDescription: String {
        "the model at \(modelPath) (\(quantization), fingerprint \(modelFingerprint), \(dimensions) dimensions)"
    }
}
