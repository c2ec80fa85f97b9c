import EmbeddingGemma
import Foundation
import GemmaSearch
import Hummingbird
import Logging

/// The embedding server: Ollama's and OpenAI's embedding APIs over one batching queue, so that
/// clients written for either (the `ollama` and `openai` SDKs, LangChain, LlamaIndex) use
/// EmbeddingGemma unchanged.
///
/// ```swift
/// let server = GemmaServer(model: try EmbeddingModel(), configuration: .init(port: 11434))
/// try await server.run()   // until SIGINT or SIGTERM; requests in flight are finished
/// ```
public struct GemmaServer: Sendable {
    /// Where and how the server listens.
    public struct Configuration: Sendable {
        /// Address to bind (loopback by default: nothing is exposed unless asked).
        public var host: String
        /// Port (11434, Ollama's).
        public var port: Int
        /// When set, every route but `GET /` needs `Authorization: Bearer <key>`.
        public var apiKey: String?
        /// The name the model is listed and answered under.
        public var modelName: String
        /// Request limits.
        public var limits: ServerLimits
        /// Queue limits and batching.
        public var batching: EmbeddingBatcher.Configuration
        /// The classifiers and router of `/api/classify` and `/api/route` (none by default).
        public var classification = ServerClassification()

        public init(host: String = "127.0.0.1", port: Int = 11434, apiKey: String? = nil, modelName: String = "embeddinggemma",
                    limits: ServerLimits = ServerLimits(), batching: EmbeddingBatcher.Configuration = .init()) {
            self.host = host
            self.port = port
            self.apiKey = apiKey
            self.modelName = modelName
            self.limits = limits
            self.batching = batching
        }
    }

    public let configuration: Configuration
    /// The queue every request goes through.
    public let batcher: EmbeddingBatcher
    /// Requests, passes and the queue, for `GET /metrics`.
    public let metrics: ServerMetrics
    /// The text generator behind `/api/generate`, `/api/chat` and `/v1/chat/completions`, if any.
    public let generation: GenerationService?
    /// The index behind `/api/search`, `/api/ask`, `/api/index` and `/api/file`, if any.
    let search: SearchService

    /// - Parameters:
    ///   - generator: a Gemma 3 text model to answer generation and chat requests with; without
    ///     one those routes answer 400 (this server only embeds).
    ///   - generatorName: the name the generator is listed under.
    ///   - index: the index to search and answer from, and the folders to keep it current with;
    ///     without one the search routes answer 503.
    public init(model: EmbeddingModel, configuration: Configuration = Configuration(), generator: TextGenerator? = nil, generatorName: String = "gemma3",
                index: IndexConfiguration? = nil) {
        self.configuration = configuration
        metrics = ServerMetrics()
        batcher = EmbeddingBatcher(model: model, configuration: configuration.batching, metrics: metrics)
        let metrics = metrics
        generation = generator.map { GenerationService(generator: $0, name: generatorName, metrics: metrics) }
        let source = index ?? IndexConfiguration(source: .unavailable(reason: "the server was started without an index"))
        search = SearchService(configuration: source, batcher: batcher, generation: generation, logger: Logger(label: "gemma-embed.index"))
    }

    /// The watcher keeping the index current, when the server watches folders.
    public var indexWatcher: IndexWatcher? { search.watcher }

    /// The routes (for tests and for embedding the server in another application).
    public func router() -> Router<ServerRequestContext> {
        let router = Router(context: ServerRequestContext.self)
        router.add(middleware: RequestObservation(metrics: metrics))
        if let key = configuration.apiKey, !key.isEmpty {
            router.add(middleware: BearerAuthentication(key: key))
        }
        let endpoint = EmbeddingEndpoint(batcher: batcher, limits: configuration.limits, modelName: configuration.modelName)
        OllamaAPI(endpoint: endpoint, generation: generation).register(on: router)
        OpenAIAPI(endpoint: endpoint, generation: generation).register(on: router)
        SearchAPI(service: search, maxBodyBytes: configuration.limits.maxBodyBytes).register(on: router)
        WebUI().register(on: router)
        ClassificationAPI(endpoint: endpoint, classification: configuration.classification).register(on: router)
        if let generation {
            let bodyLimit = configuration.limits.maxBodyBytes
            OllamaGenerationAPI(service: generation, maxBodyBytes: bodyLimit, embeddingModelName: configuration.modelName).register(on: router)
            OpenAIChatAPI(service: generation, maxBodyBytes: bodyLimit, embeddingModelName: configuration.modelName).register(on: router)
        }
        router.get("/metrics") { [metrics] _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.exposition())))
        }
        return router
    }

    /// The application: the router bound to the configured address.
    public func application(logger: Logger? = nil) -> some ApplicationProtocol {
        let logger = logger ?? Logger(label: "gemma-embed.serve")
        return Application(router: router(), configuration: .init(address: .hostname(configuration.host, port: configuration.port),
                                                                  serverName: "gemma-embed"),
                           logger: logger)
    }

    /// Serves until SIGINT or SIGTERM, then stops accepting, finishes the requests in flight and
    /// the queued work, and returns.
    public func run(logger: Logger? = nil) async throws {
        search.watcher?.start()
        defer { search.watcher?.stop() }
        try await application(logger: logger).runService()
        search.watcher?.stop()
        batcher.shutdown()
        generation?.shutdown()
    }
}

/// Requires `Authorization: Bearer <key>` on every route but the health check (`GET /`, `HEAD /`)
/// and the web page's files (`/ui/`), whose script asks for the key.
struct BearerAuthentication: RouterMiddleware {
    typealias Context = ServerRequestContext
    let key: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/" || WebUI.isPagePath(request.uri.path) { return try await next(request, context) }
        guard let header = request.headers[.authorization], header == "Bearer " + key else {
            let flavor: APIError.Flavor = request.uri.path.hasPrefix("/v1/") ? .openAI : .ollama
            return APIError(.unauthorized, "missing or wrong API key: send 'Authorization: Bearer <key>'", code: "invalid_api_key").response(flavor)
        }
        return try await next(request, context)
    }
}

/// A JSON object as a 200 response.
func jsonResponse(_ object: [String: Any]) -> Response {
    jsonResponse(jsonData(object))
}

/// JSON bytes as a 200 response.
func jsonResponse(_ data: Data) -> Response {
    Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
}

/// The bytes of a JSON object as every response of the server writes them (`/` unescaped), or `{}`
/// for an object JSON cannot hold.
func jsonData(_ object: [String: Any]) -> Data {
    (try? JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes])) ?? Data("{}".utf8)
}
