import ArgumentParser
import EmbeddingGemma
import Foundation
import GemmaServer
import Logging

/// `gemma-embed serve`: the embedding server for Ollama and OpenAI clients.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve embeddings over Ollama's (/api/embed) and OpenAI's (/v1/embeddings) APIs, with dynamic batching; with --generator, also generation and chat.",
        discussion: """
        Binds to 127.0.0.1 unless --host says otherwise. Prompts: body fields prompt_name / prompt / title, or the \
        model name's tag (embeddinggemma:query, embeddinggemma:document). SIGINT or SIGTERM stops accepting \
        connections and finishes the requests in flight.
        """
    )

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "Address to bind.")
    var host = "127.0.0.1"

    @Option(name: .long, help: "Port.")
    var port = 11434

    @Option(name: .customLong("api-key"), help: "Require 'Authorization: Bearer KEY' on every route but GET / (or $GEMMA_EMBED_API_KEY).")
    var apiKey: String?

    @Option(name: .customLong("model-name"), help: "The name the model is listed and answered under.")
    var modelName = "embeddinggemma"

    @Option(name: .customLong("max-queue"), help: "Most inputs waiting at once; beyond it requests get 503 with Retry-After.")
    var maxQueue = 4096

    @Option(name: [.customLong("batch-tokens"), .customLong("pass-tokens")],
            help: "Tokens per batch of requests embedded together (the model runs it in passes of its own size): larger uses the CPU a little better, smaller answers queries sooner while documents stream.")
    var batchTokens = 1024

    @Option(name: [.customLong("document-batch-tokens"), .customLong("document-pass-tokens")],
            help: "Tokens per batch while only documents come (no query for 2 s): larger batches for bulk loads; --batch-tokens's value turns it off.")
    var documentBatchTokens = 4096

    @Option(name: .long, help: "A Gemma 3 text model (GGUF) that also answers /api/generate, /api/chat and /v1/chat/completions.")
    var generator: String?

    @Option(name: .customLong("generator-name"), help: "The name the generator is listed and answered under.")
    var generatorName = "gemma3"

    @Option(name: .long, help: "Tokens of context (prompt and answer) per generation.")
    var context = 2048

    @Option(name: .customLong("classifier"), help: "Serve a classifier on /api/classify as NAME: NAME=clf.json (repeatable).")
    var classifiers: [String] = []

    @Option(name: .long, help: "Serve a routes file on /api/route.")
    var routes: String?

    @Option(name: .customLong("route-dimensions"), help: "Matryoshka width the routes are embedded and matched at (768, 512, 256 or 128).")
    var routeDimensions: Int?

    @Option(name: .customLong("log-format"), help: "Request log lines on stderr: text (for a terminal) or json (one object per line).")
    var logFormat: LogFormat = .text

    @Option(name: .customLong("log-level"), help: "Least severe log level shown: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    enum LogFormat: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be between 1 and 65535") }
        guard maxQueue >= 1 else { throw ValidationError("--max-queue must be at least 1") }
        guard batchTokens >= 16 else { throw ValidationError("--batch-tokens must be at least 16") }
        guard documentBatchTokens >= 16 else { throw ValidationError("--document-batch-tokens must be at least 16") }
        guard context >= 16 else { throw ValidationError("--context must be at least 16") }
        guard !generatorName.isEmpty, generatorName != modelName else { throw ValidationError("--generator-name must differ from --model-name") }
    }

    func run() async throws {
        let format = logFormat, level = logLevel
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = format == .json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let model = try modelOptions.load()
        let textGenerator = try generator.map { try TextGenerator(path: $0, contextLength: context) }
        let key = apiKey ?? ProcessInfo.processInfo.environment["GEMMA_EMBED_API_KEY"]
        var configuration = GemmaServer.Configuration(
            host: host, port: port, apiKey: key, modelName: modelName,
            batching: .init(maxQueuedInputs: maxQueue, batchTokens: batchTokens, documentBatchTokens: documentBatchTokens))
        configuration.classification = try classification(model: model)
        let server = GemmaServer(model: model, configuration: configuration, generator: textGenerator, generatorName: generatorName)
        var logger = Logger(label: "gemma-embed.serve")
        logger.logLevel = level
        logger.info("serving \(model.sourcePath) (\(model.quantization.rawValue)) as '\(modelName)' on http://\(host):\(port)\(key == nil ? "" : " (API key required)")")
        if let textGenerator {
            logger.info("generating with \(textGenerator.path) as '\(generatorName)' (context \(context))")
        }
        try await server.run(logger: logger)
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
