import EmbeddingGemma
import Foundation
import GemmaAnswering
import GemmaSearch
import Hummingbird
import Logging

/// The search routes: `POST /api/search`, `POST /api/ask` (NDJSON stream or one object),
/// `GET /api/index` and `GET /api/file` (an indexed file's lines around a hit).
struct SearchAPI: Sendable {
    let service: SearchService
    let maxBodyBytes: Int

    /// A hit of `/api/search`, as `search --json` prints it.
    struct SearchResponse: Encodable {
        var hits: [SearchHit]
        var took_ms: Double
        var embed_ms: Double
    }

    /// An answer's numbered source.
    struct SourceRecord: Encodable {
        var n: Int
        var path: String
        var line: Int
        var start_line: Int
        var end_line: Int
        var score: Float
        var title: String?
        var truncated: Bool

        init(_ source: AnswerSource) {
            n = source.number
            path = source.path
            line = source.line
            start_line = source.startLine
            end_line = source.endLine
            score = source.score
            title = source.title
            truncated = source.truncated
        }
    }

    func register(on router: Router<ServerRequestContext>) {
        router.post("/api/search") { request, _ in
            await APIError.answer(.gemma) { try await search(request) }
        }
        router.post("/api/ask") { request, context in
            await APIError.answer(.gemma) { try await ask(request, logger: context.logger) }
        }
        router.get("/api/index") { _, _ in
            await APIError.answer(.gemma) { try await status() }
        }
        router.get("/api/file") { request, context in
            await APIError.answer(.gemma) { try await file(request, logger: context.logger) }
        }
    }

    private func search(_ request: Request) async throws(APIError) -> Response {
        let started = ContinuousClock.now
        let body = try SearchRequest(json: try await RequestDecoding.object(from: request, maxBytes: maxBodyBytes))
        let (hits, embedMilliseconds) = try await service.search(body)
        let took = SearchService.milliseconds(started.duration(to: .now))
        return try Self.json(SearchResponse(hits: hits, took_ms: took, embed_ms: embedMilliseconds))
    }

    private func ask(_ request: Request, logger: Logger) async throws(APIError) -> Response {
        let body = try AskRequest(json: try await RequestDecoding.object(from: request, maxBytes: maxBodyBytes))
        let index = try service.requireIndex()
        guard let answerer = service.answerer else {
            throw APIError(.badRequest, "no generator configured: this server only searches; start it with a generator to answer questions", param: "generator")
        }
        let (hits, _) = try await service.search(SearchRequest(question: body))
        guard !hits.isEmpty else { throw APIError(.notFound, AnswerError.noSources(indexPath: index.path).description) }
        let options = GenerationOptions(maxTokens: body.maxTokens, temperature: body.temperature, seed: body.seed)
        guard body.stream else {
            let answer: GroundedAnswer
            do {
                answer = try await answerer.answer(body.question, from: hits, options: options)
            } catch {
                throw Self.apiError(error)
            }
            let sources = (try? Self.jsonObject(answer.sources.map(SourceRecord.init))) ?? []
            return jsonResponse(jsonData(["answer": answer.text, "sources": sources]))
        }
        let (lines, continuation) = AsyncStream<Data>.makeStream(bufferingPolicy: .unbounded)
        let task = Task {
            do {
                let answer = try await answerer.answer(body.question, from: hits, options: options, onSources: { sources in
                    continuation.yield(Self.line(["sources": (try? Self.jsonObject(sources.map(SourceRecord.init))) ?? []]))
                }, onText: { piece in
                    if !piece.isEmpty { continuation.yield(Self.line(["answer": piece])) }
                })
                var done: [String: Any] = ["done": true, "answer": answer.text, "stop": answer.generation.stopReason]
                done["generated_tokens"] = answer.generation.generatedTokens
                done["prompt_tokens"] = answer.generation.promptTokens
                continuation.yield(Self.line(done))
            } catch {
                logger.warning("ask failed while streaming: \(error)")
                continuation.yield(Self.line(["error": "\(error)"]))
            }
            continuation.finish()
        }
        let stream = ResponseBody { writer in
            await withTaskCancellationHandler {
                for await line in lines {
                    do { try await writer.write(ByteBuffer(bytes: line)) } catch { task.cancel(); break }
                }
            } onCancel: {
                task.cancel()
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: stream)
    }

    private func status() async throws(APIError) -> Response {
        let index = try service.requireIndex()
        let statistics = try await SearchService.offload { () throws(SearchError) in try index.statistics() }
        let formatter = ISO8601DateFormatter()
        var object: [String: Any] = [
            "path": index.path, "files": statistics.files, "skipped_files": statistics.skippedFiles, "chunks": statistics.chunks,
            "tokens": statistics.tokens, "bytes": statistics.bytesOnDisk, "model": statistics.metadata.modelPath,
            "quantization": statistics.metadata.quantization, "dimensions": statistics.metadata.dimensions,
            "updated_at": statistics.lastChange.map { formatter.string(from: $0) } as Any? ?? NSNull(),
            "update": NSNull(), "watching": [Any](), "last_error": NSNull(),
        ]
        if let watcher = service.watcher {
            let state = watcher.status
            object["watching"] = state.roots.map { ["path": $0.path, "exists": $0.exists] as [String: Any] }
            object["notifications"] = state.notifications
            object["last_error"] = state.lastError as Any? ?? NSNull()
            if let update = state.update {
                object["update"] = [
                    "files_found": update.filesFound, "files_to_process": update.filesToProcess, "files_processed": update.filesProcessed,
                    "chunks_embedded": update.chunksEmbedded, "bytes_to_process": update.bytesToProcess, "bytes_processed": update.bytesProcessed,
                    "started_at": state.updateStarted.map { formatter.string(from: $0) } as Any? ?? NSNull(),
                ] as [String: Any]
            }
        }
        return jsonResponse(jsonData(object))
    }

    private func file(_ request: Request, logger: Logger) async throws(APIError) -> Response {
        let index = try service.requireIndex()
        let query = request.uri.queryParameters
        guard let path = query["path"].map(String.init), !path.isEmpty else { throw APIError(.badRequest, "missing query parameter 'path'", param: "path") }
        let line = try Self.integer(query["line"].map(String.init), name: "line", range: 1...Int(Int32.max)) ?? 1
        let context = try Self.integer(query["context"].map(String.init), name: "context", range: 0...1000) ?? 20
        do {
            let preview = try await SearchService.offload { () throws(SearchError) in try index.preview(of: path, around: line, context: context) }
            return try Self.json(preview)
        } catch {
            if error.status == .notFound { logger.notice("refused to open \(path): \(error.message)") }
            throw error
        }
    }

    // MARK: Helpers

    static func integer(_ text: String?, name: String, range: ClosedRange<Int>) throws(APIError) -> Int? {
        guard let text else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw APIError(.badRequest, "'\(name)' must be an integer between \(range.lowerBound) and \(range.upperBound)", param: name)
        }
        return value
    }

    static func json<T: Encodable>(_ value: T) throws(APIError) -> Response {
        do { return jsonResponse(try encoder.encode(value)) } catch { throw APIError(.internalServerError, "cannot encode the response: \(error)") }
    }

    static func jsonObject<T: Encodable>(_ value: T) throws -> Any {
        try JSONSerialization.jsonObject(with: try encoder.encode(value))
    }

    /// One NDJSON line.
    static func line(_ object: [String: Any]) -> Data {
        var data = jsonData(object)
        data.append(0x0A)
        return data
    }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return encoder
    }

    static func apiError(_ error: AnswerError) -> APIError {
        switch error {
        case .search(let search): return SearchService.apiError(search)
        case .noSources: return APIError(.notFound, error.description)
        case .generatorUnavailable: return APIError(.serviceUnavailable, error.description, retryAfter: 5)
        case .chatServer: return APIError(.badGateway, error.description)
        default: return APIError(.internalServerError, error.description)
        }
    }
}

extension SearchRequest {
    /// The search an answer's passages come from.
    init(question: AskRequest) {
        query = question.question
        k = question.k
        path = question.path
        minScore = nil
        lexicalWeight = SemanticIndex.exactMatchWeight
        filesOnly = false
    }
}
