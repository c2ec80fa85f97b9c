import ArgumentParser
import EmbeddingGemma
import Foundation
import GemmaAnswering
import GemmaSearch
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

    @Option(name: .long, help: "A Gemma 3 text model (GGUF) that also answers /api/generate, /api/chat and /v1/chat/completions (and /api/ask); or a chat server's URL (…/v1 or …/api) that answers /api/ask only.")
    var generator: String?

    @Option(name: .customLong("generator-model"), help: "With a generator URL: the model name to ask that server for.")
    var generatorModel = "gemma3"

    @Option(name: .long, help: "The index to search (/api/search, /api/ask, /api/index, /ui/) (default: $GEMMA_EMBED_INDEX, else ~/.local/share/gemma-embed/index.sqlite, when it exists).")
    var index: String?

    @Option(name: .long, parsing: .upToNextOption, help: "Folders to keep indexed while serving: changes are applied as they are saved (the index is made if need be).")
    var watch: [String] = []

    @Option(name: .customLong("rescan-seconds"), help: "With --watch: how often to rescan where file notifications are not available.")
    var rescanSeconds = 30.0

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
        guard rescanSeconds >= 0.5 else { throw ValidationError("--rescan-seconds must be at least 0.5") }
        for path in watch where !FileManager.default.fileExists(atPath: path) {
            throw ValidationError("--watch \(path): no such file or folder")
        }
    }

    func run() async throws {
        let format = logFormat, level = logLevel
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = format == .json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "gemma-embed.serve")
        logger.logLevel = level
        let served = try ServedIndex.open(explicitPath: index, defaultPath: IndexOptionGroup.defaultPath, watch: watch, modelOptions: modelOptions, logger: logger)
        let model = try served.model ?? modelOptions.load()
        let isURL = generator.map { $0.lowercased().hasPrefix("http://") || $0.lowercased().hasPrefix("https://") } ?? false
        let textGenerator = try generator.flatMap { isURL ? nil : try TextGenerator(path: $0, contextLength: context) }
        let chatServer = try generator.flatMap { url -> (any AnswerGenerator)? in
            guard isURL else { return nil }
            return try ChatServerGenerator(url: url, model: generatorModel, apiKey: ProcessInfo.processInfo.environment["GEMMA_GENERATOR_API_KEY"],
                                           contextLength: context, tokenizer: model.tokenizer)
        }
        let key = apiKey ?? ProcessInfo.processInfo.environment["GEMMA_EMBED_API_KEY"]
        let indexConfiguration = IndexConfiguration(source: served.source, watch: watch,
                                                    watcher: .init(rescanInterval: .milliseconds(Int(rescanSeconds * 1000))),
                                                    answerGenerator: chatServer)
        var configuration = GemmaServer.Configuration(
            host: host, port: port, apiKey: key, modelName: modelName,
            batching: .init(maxQueuedInputs: maxQueue, batchTokens: batchTokens, documentBatchTokens: documentBatchTokens))
        configuration.classification = try classification(model: model)
        let server = GemmaServer(model: model, configuration: configuration, generator: textGenerator, generatorName: generatorName,
                                 index: indexConfiguration)
        logger.info("serving \(model.sourcePath) (\(model.quantization.rawValue)) as '\(modelName)' on http://\(host):\(port)\(key == nil ? "" : " (API key required)")")
        if let textGenerator {
            logger.info("generating with \(textGenerator.path) as '\(generatorName)' (context \(context))")
        } else if let generator, isURL {
            logger.info("answering /api/ask with the chat server at \(generator)")
        }
        if case .index(let index) = served.source {
            logger.info("searching \(index.path)\(watch.isEmpty ? "" : ", keeping it current with " + watch.joined(separator: ", ")); web page at http://\(host):\(port)/ui/")
        }
        try await server.run(logger: logger)
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
