import ArgumentParser
import EmbeddingGemma

/// `gemma-embed similarity --query Q DOC...`: the cosine similarity of the query with each document.
struct SimilarityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "similarity",
        abstract: "Score documents against a query (query and document prompts applied); prints the similarity row."
    )

    @Option(name: .long, help: "The query.")
    var query: String

    @Argument(help: "Documents to score.")
    var documents: [String]

    @Option(name: .long, help: "Matryoshka dimensions: 768, 512, 256 or 128.")
    var dimensions: Int?

    @OptionGroup var modelOptions: ModelOptions

    func validate() throws {
        if documents.isEmpty { throw ValidationError("Give at least one document.") }
        do {
            _ = try EmbeddingModel.validate(dimensions: dimensions)
        } catch {
            throw ValidationError(error.description)
        }
    }

    func run() throws {
        let model = try modelOptions.load()
        let q = try model.encodeQuery(query, dimensions: dimensions)
        let d = try model.encodeDocument(documents, dimensions: dimensions)
        let row = try model.similarity([q], d)[0]
        print(OutputWriter.jsonArray(row))
    }
}
