import ArgumentParser
import EmbeddingGemma

/// The model options shared by every command that loads the model.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Model: a sentence-transformers folder, a gemma-embedding GGUF file, or a Hugging Face Hub id in the local HF cache.")
    var model: String?

    @Option(name: .long, help: "Re-encode the weights in memory after loading: f32, f16, bf16, q8_0, q4_0 or mixed.")
    var quantization: String?

    @Flag(name: .long, help: "Accept a GGUF file without the Dense head and output the mean-pooled hidden state (not EmbeddingGemma embeddings).")
    var rawPooled = false

    /// The `--quantization` value, validated.
    func quantizationType() throws -> QuantizationType? {
        guard let quantization else { return nil }
        guard let type = QuantizationType(rawValue: quantization.lowercased()) else {
            throw ValidationError("unknown quantization '\(quantization)'; choose one of \(QuantizationType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return type
    }

    /// Loads the model named by the options.
    func load() throws -> EmbeddingModel {
        try EmbeddingModel(path: model, quantization: quantizationType(), allowMissingHead: rawPooled)
    }
}
