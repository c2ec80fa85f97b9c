import EmbeddingGemma
import Foundation
import GemmaAnswering
import GemmaSearch
import Logging

/// The index behind the search routes: searches whose queries are embedded through the
/// server's batching queue (as short requests, ahead of documents), answers, the index's
/// status, previews of indexed files, and the watcher that keeps the index current.
final class SearchService: Sendable {
    /// The index, or nil with ``unavailableReason``.
    let index: SemanticIndex?
    let unavailableReason: String
    let watcher: IndexWatcher?
    let batcher: EmbeddingBatcher
    let answerer: GroundedAnswerer?

    init(configuration: IndexConfiguration, batcher: EmbeddingBatcher, generation: GenerationService?, logger: Logger) {
        self.batcher = batcher
        switch configuration.source {
        case .index(let index):
            self.index = index
            unavailableReason = ""
            let generator: (any AnswerGenerator)? = configuration.answerGenerator ?? generation.map { QueuedAnswerGenerator(service: $0) }
            answerer = generator.map { GroundedAnswerer(index: index, generator: $0) }
            watcher = configuration.watch.isEmpty ? nil : IndexWatcher(
                index: index, roots: configuration.watch, configuration: configuration.watcher,
                embedder: batcher.documentEmbedder(), events: { Self.log($0, logger) })
        case .unavailable(let reason):
            index = nil
            unavailableReason = reason
            answerer = nil
            watcher = nil
        }
    }

    /// The index, or a 503 saying why there is none.
    func requireIndex() throws(APIError) -> SemanticIndex {
        guard let index else { throw APIError(.serviceUnavailable, "no index: \(unavailableReason)", code: "no_index") }
        return index
    }

    /// Searches with the query embedded through the batching queue; the rest runs off the event loops.
    func search(_ request: SearchRequest) async throws(APIError) -> (hits: [SearchHit], embedMilliseconds: Double) {
        let index = try requireIndex()
        if let path = request.path { try await checkScope(path, in: index) }
        let clock = ContinuousClock()
        let started = clock.now
        let vector = try await embedQuery(request.query, index: index)
        let embedded = clock.now
        let hits = try await Self.offload { () throws(SearchError) in
            try index.search(request.query, vector: vector, limit: request.k, under: request.path, filesOnly: request.filesOnly,
                             minScore: request.minScore, lexicalWeight: request.lexicalWeight)
        }
        return (hits, Self.milliseconds(started.duration(to: embedded)))
    }

    /// The query's embedding at the index's width, through the queue.
    private func embedQuery(_ query: String, index: SemanticIndex) async throws(APIError) -> [Float] {
        let request: EmbeddingRequest
        do { request = try index.queryRequest(query) } catch { throw APIError(.badRequest, error.description, param: "query") }
        do {
            return try await batcher.embed([request])[0].vector
        } catch EmbeddingBatcher.BatcherError.queueFull {
            throw APIError(.serviceUnavailable, "the server is busy (embedding queue full); retry shortly", code: "queue_full", retryAfter: 1)
        } catch {
            throw APIError(.serviceUnavailable, "the query could not be embedded: \(error)")
        }
    }

    /// A 400 naming `path` unless it is an absolute path with indexed files at or below it.
    func checkScope(_ path: String, in index: SemanticIndex) async throws(APIError) {
        guard path.hasPrefix("/") else { throw APIError(.badRequest, "path must be an absolute path (got '\(path)')", param: "path") }
        let held = try await Self.offload { () throws(SearchError) in try index.holdsFiles(under: path) }
        guard held else { throw APIError(.badRequest, "path \(path) holds no indexed files", param: "path") }
    }

    /// Runs blocking index work on ``IndexThreads``, off the server's event loops and cooperative threads.
    static func offload<T: Sendable>(_ work: @escaping @Sendable () throws(SearchError) -> T) async throws(APIError) -> T {
        let result = await IndexThreads.run(work)
        switch result {
        case .success(let value): return value
        case .failure(let error): throw Self.apiError(error)
        }
    }

    /// A library error as the response it deserves.
    static func apiError(_ error: SearchError) -> APIError {
        switch error {
        case .emptyQuery: return APIError(.badRequest, error.description, param: "query")
        case .invalidLimit: return APIError(.badRequest, error.description, param: "k")
        case .fileNotIndexed, .fileChanged: return APIError(.notFound, error.description, param: "path")
        case .invalidOption: return APIError(.badRequest, error.description)
        case .indexLocked, .storage, .indexCorrupt, .indexNotFound, .storeUnavailable:
            return APIError(.serviceUnavailable, error.description, retryAfter: 1)
        default: return APIError(.internalServerError, error.description)
        }
    }

    static func milliseconds(_ duration: Duration) -> Double {
        (duration / .milliseconds(1) * 100).rounded() / 100
    }

    private static func log(_ event: IndexWatcher.Event, _ logger: Logger) {
        switch event {
        case .updated(let summary):
            guard summary.filesAdded + summary.filesChanged + summary.filesRemoved > 0 || summary.interrupted else { return }
            logger.info("index updated: \(summary.filesAdded) added, \(summary.filesChanged) changed, \(summary.filesRemoved) removed, \(summary.chunksEmbedded) chunks in \(String(format: "%.2f", summary.seconds)) s\(summary.interrupted ? " (stopped)" : "")")
        case .failed(let error):
            logger.error("index update failed: \(error)")
        case .rootMissing(let path):
            logger.warning("watched folder \(path) is gone; still watching the others, looking for it again")
        case .rootReturned(let path):
            logger.notice("watched folder \(path) is back")
        case .rescanning(let reason):
            logger.warning("file notifications unavailable (\(reason)); rescanning on a timer")
        }
    }
}
