import ArgumentParser

/// The `gemma-embed` command: EmbeddingGemma on the command line.
@main
struct GemmaEmbed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemma-embed",
        abstract: "Text embeddings with EmbeddingGemma (google/embeddinggemma-300m), on this machine.",
        discussion: """
        The model is read from --model (a sentence-transformers folder or a gemma-embedding GGUF file), \
        else $EMBEDDINGGEMMA_MODEL, else ~/.cache/embeddinggemma/embeddinggemma-300m (filled by scripts/fetch-model.sh).
        """,
        subcommands: [EmbedCommand.self, SimilarityCommand.self, TokenizeCommand.self, IndexCommand.self, SearchCommand.self, ServeCommand.self, GenerateCommand.self, AskCommand.self, BenchSearchCommand.self,
                      ClassifyCommand.self, RouteCommand.self,
                      FinetuneCommand.self, VerifyCommand.self, BenchCommand.self, QuantizeCommand.self]
    )
}
