import ArgumentParser
import EmbeddingGemma

/// `gemma-embed embed`: one JSON line `{"embedding":[...]}` per input, in input order.
struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Embed texts; prints one JSON line {\"embedding\":[...]} per input."
    )

    @OptionGroup var inputs: InputOptions
    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "Named prompt from the model's config (query, document, STS, Clustering, ...).")
    var prompt: String?

    @Option(name: .customLong("prompt-text"), help: "Literal prompt prefix (wins over --prompt).")
    var promptText: String?

    @Option(name: .long, help: "Document title: uses the document prompt with this title in place of 'none'.")
    var title: String?

    @Option(name: .long, help: "Matryoshka dimensions: 768, 512, 256 or 128.")
    var dimensions: Int?

    @Option(name: .long, help: "Write to FILE instead of standard output.")
    var output: String?

    @Flag(name: .customLong("no-truncate"), help: "Reject inputs over the model's token limit instead of truncating them.")
    var noTruncate = false

    func validate() throws {
        do {
            _ = try EmbeddingModel.validate(dimensions: dimensions)
        } catch {
            throw ValidationError(error.description)
        }
    }

    func run() throws {
        let records = try inputs.read()
        let model = try modelOptions.load()
        let defaultPrompt: Prompt = promptText.map(Prompt.literal) ?? prompt.map(Prompt.named) ?? .none
        _ = try model.promptText(defaultPrompt)
        var prompts: [Prompt] = []
        for record in records {
            do {
                prompts.append(try Self.prompt(for: record, default: defaultPrompt, defaultTitle: title, model: model))
            } catch {
                throw CLIError("input \(record.line): \(error)")
            }
        }
        let embeddings: [Embedding]
        do {
            embeddings = try model.embed(records.map(\.text), prompts: prompts, dimensions: dimensions,
                                         truncation: noTruncate ? .error : .truncate)
        } catch {
            guard case let .inputTooLong(index, tokens, limit) = error else { throw error }
            throw CLIError("input \(records[index].line) has \(tokens) tokens, over the model's limit of \(limit) (drop --no-truncate to truncate it)")
        }
        for (record, embedding) in zip(records, embeddings) where embedding.wasTruncated {
            Diagnostics.warn("input \(record.line) has \(embedding.originalTokenCount) tokens; truncated to \(embedding.tokenCount) (use --no-truncate to reject instead)")
        }
        let writer = try OutputWriter(path: output)
        for embedding in embeddings {
            writer.writeLine("{\"embedding\":" + OutputWriter.jsonArray(embedding.vector) + "}")
        }
        writer.flush()
    }

    /// The prompt of one input. A JSON Lines record's own fields win over the command's options:
    /// `prompt` (literal), then `prompt_name`, then `title` (the document prompt with that title);
    /// then `--prompt-text`, `--prompt` and `--title` in the same order.
    static func prompt(for record: InputRecord, default defaultPrompt: Prompt, defaultTitle: String?, model: EmbeddingModel) throws -> Prompt {
        if let literal = record.prompt { return .literal(literal) }
        if let name = record.promptName { return try resolve(.named(name), title: record.title ?? defaultTitle, model: model) }
        if let title = record.title { return try model.documentPrompt(title: title) }
        return try resolve(defaultPrompt, title: defaultTitle, model: model)
    }

    /// Applies `title` to `prompt`, which must then be the document prompt (or none).
    private static func resolve(_ prompt: Prompt, title: String?, model: EmbeddingModel) throws -> Prompt {
        guard let title else {
            _ = try model.promptText(prompt)
            return prompt
        }
        switch prompt {
        case .none, .named("document"):
            return try model.documentPrompt(title: title)
        default:
            throw CLIError("a title only applies to the document prompt")
        }
    }
}
