import ArgumentParser
import EmbeddingGemma

/// The `--model` option shared by every command that loads the model.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Model folder (sentence-transformers layout) or a Hugging Face Hub id in the local HF cache.")
    var model: String?

    /// Loads the model named by the options.
    func load() throws -> EmbeddingModel {
        try EmbeddingModel(path: model)
    }
}
