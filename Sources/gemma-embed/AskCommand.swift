import ArgumentParser
import EmbeddingGemma
import Foundation
import GemmaAnswering
import GemmaSearch

/// `gemma-embed ask`: answers a question from the index with a Gemma 3 generator, on the device.
struct AskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ask",
        abstract: "Answer QUESTION from your indexed files: retrieve the best passages, let a Gemma 3 model answer from them, list the sources.",
        discussion: """
        The answer streams to standard output, then the sources as `[n] path:line`. With --json, one \
        object {"answer", "sources": [...]} instead. The prompt tells the model to answer only from \
        the numbered passages; passages are shortened to fit the context with the answer.

        --generator is a Gemma 3 GGUF file (run here) or the URL of a chat server: …/v1 for an \
        OpenAI-compatible /v1/chat/completions (llama-server, vLLM, gemma-embed serve --generator), \
        http://host:port or …/api for Ollama's /api/chat; --generator-model names its model and \
        $GEMMA_GENERATOR_API_KEY is sent as a bearer token.
        """
    )

    @Argument(help: "The question.")
    var question: String

    @Argument(help: "Only use passages from files at or below this path.")
    var path: String?

    @OptionGroup var indexOptions: IndexOptionGroup
    @OptionGroup var generatorOptions: GeneratorOptions

    @Option(name: .short, help: "Number of passages to answer from.")
    var k = 4

    @Option(name: .customLong("max-tokens"), help: "Most tokens of the answer.")
    var maxTokens = 256

    @Option(name: .long, help: "0 for greedy decoding; above 0, sample at this temperature.")
    var temperature = 0.0

    @Option(name: .long, help: "Seed of the sampler.")
    var seed: UInt64 = 0

    @Flag(name: .long, help: "Print {\"answer\", \"sources\"} as one JSON object instead of streaming text.")
    var json = false

    func validate() throws {
        guard question.contains(where: { !$0.isWhitespace }) else { throw ValidationError("the question is empty") }
        guard k >= 1 else { throw ValidationError("-k must be at least 1") }
        guard maxTokens >= 1 else { throw ValidationError("--max-tokens must be at least 1") }
        guard temperature >= 0, temperature.isFinite else { throw ValidationError("--temperature must be 0 or more") }
    }

    struct Output: Encodable {
        var answer: String
        var sources: [HitRecord]
    }

    func run() async throws {
        do {
            if let path, !FileManager.default.fileExists(atPath: path) { throw SearchError.pathNotFound(path) }
            let index = try SemanticIndex.open(path: indexOptions.path)
            let generator = try generatorOptions.answerGenerator(tokenizer: index.model.tokenizer)
            let answerer = GroundedAnswerer(index: index, generator: generator)
            let options = GenerationOptions(maxTokens: maxTokens, temperature: temperature, seed: seed)
            let printer = AnswerPrinter(enabled: !json)
            let answer = try await answerer.answer(question, sources: k, under: path, options: options) { printer.print($0) }
            if json {
                let sources = answer.sources.map {
                    HitRecord(number: $0.number, path: $0.path, line: $0.line, startLine: $0.startLine, endLine: $0.endLine, score: $0.score, title: $0.title)
                }
                let data = try HitRecord.encoder.encode(Output(answer: answer.text, sources: sources))
                OutputWriter.writeAll(Array(data) + [0x0A], to: 1)
            } else {
                var lines = "\n\nSources:\n"
                for source in answer.sources {
                    lines += "[\(source.number)] \(SearchCommand.displayPath(source.path)):\(source.line)\(source.truncated ? " (shortened)" : "")\n"
                }
                OutputWriter.writeAll(Array(lines.utf8), to: 1)
            }
            if answer.generation.droppedPromptTokens > 0 {
                Diagnostics.warn("the prompt was \(answer.generation.droppedPromptTokens) tokens too long for the context; its beginning was dropped")
            }
            Diagnostics.note(answer.generation.summary)
        } catch let error as SearchError {
            throw error.cliError
        } catch let error as AnswerError {
            throw error.cliError
        }
    }
}

/// Streams an answer to standard output without its leading white space.
final class AnswerPrinter: @unchecked Sendable {
    private let enabled: Bool
    private var started = false
    private let lock = NSLock()

    init(enabled: Bool) {
        self.enabled = enabled
    }

    func print(_ text: String) {
        guard enabled else { return }
        lock.withLock {
            let shown = started ? text : String(text.drop { $0.isWhitespace })
            if !shown.isEmpty { started = true }
            OutputWriter.writeAll(Array(shown.utf8), to: 1)
        }
    }
}

extension AnswerGeneration {
    /// `64 generated in 1.9 s; 512 prompt tokens; stop: length`.
    var summary: String {
        let seconds = duration / .seconds(1)
        var parts = ["\(generatedTokens.map(String.init) ?? "?") generated in \(seconds.fixed(2)) s"]
        if let promptTokens { parts.append("\(promptTokens) prompt tokens") }
        parts.append("stop: \(stopReason)")
        return parts.joined(separator: "; ")
    }
}
