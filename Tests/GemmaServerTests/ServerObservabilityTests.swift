import EmbeddingGemma
import Foundation
@testable import GemmaServer
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

/// `/metrics`, the request log and the queue's back-pressure, on the tiny model.
@Suite("Server metrics, logs and back-pressure")
struct ServerObservabilityTests {
    /// The value of the sample of `metric` whose labels include all of `labels`, from a Prometheus exposition.
    static func sample(_ text: String, _ metric: String, _ labels: [String] = []) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(metric + " ") || line.hasPrefix(metric + "{") {
            guard labels.allSatisfy({ line.contains($0) }), let value = line.split(separator: " ").last else { continue }
            return Double(value)
        }
        return nil
    }

    /// Lines written by a ``JSONLogHandler``, kept for the test to read.
    final class LogLines: @unchecked Sendable {
        private let lock = NSLock()
        private var data = Data()
        func append(_ line: Data) { lock.withLock { data.append(line) } }
        var objects: [[String: Any]] {
            lock.withLock { data }.split(separator: 0x0A).compactMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }
        }
    }

    @Test("/metrics counts requests by route and status, inputs, tokens and passes")
    func metrics() async throws {
        let server = GemmaServer(model: ServerRouteTests.model)
        try await server.application().test(.router) { client in
            try await client.execute(uri: "/api/embed", method: .post, body: ByteBuffer(string: #"{"input":["abc","hi there"]}"#)) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/v1/embeddings", method: .post, body: ByteBuffer(string: #"{"input":[]}"#)) { response in
                #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/no/such/route", method: .get) { response in
                #expect(response.status == .notFound)
            }
            let text = try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
                return String(buffer: response.body)
            }
            let tokens = try ServerRouteTests.model.embed(["abc", "hi there"], prompts: [.none, .none]).reduce(0) { $0 + $1.tokenCount }
            #expect(Self.sample(text, "gemma_embed_inputs_total") == 2)
            #expect(Self.sample(text, "gemma_embed_tokens_total") == Double(tokens))
            #expect(Self.sample(text, "gemma_embed_passes_total") == 1)
            #expect(Self.sample(text, "gemma_embed_pass_inputs_count") == 1)
            #expect(Self.sample(text, "gemma_embed_pass_inputs_sum") == 2)
            #expect(Self.sample(text, "gemma_embed_queue_inputs") == 0)
            #expect(Self.sample(text, "gemma_http_requests_total", [#"route="/api/embed""#, #"status="200""#]) == 1)
            #expect(Self.sample(text, "gemma_http_requests_total", [#"route="/v1/embeddings""#, #"status="400""#]) == 1)
            #expect(Self.sample(text, "gemma_http_requests_total", [#"route="unmatched""#, #"status="404""#]) == 1, "\(text)")
            #expect(Self.sample(text, "gemma_http_request_duration_seconds_count", [#"route="/api/embed""#]) == 1)
        }
    }

    @Test("a full queue answers 503 with Retry-After at once; the queued request still completes")
    func queueFull() async throws {
        let server = GemmaServer(model: ServerRouteTests.model, configuration: .init(batching: .init(maxQueuedInputs: 2)))
        server.batcher.holdWork()
        try await server.application().test(.router) { client in
            async let first = client.execute(uri: "/api/embed", method: .post, body: ByteBuffer(string: #"{"input":["abc","def"]}"#)) { response in
                response.status
            }
            // Generous: under a full parallel test run the request task may start late (more than 300 s once,
            // when the machine was also building: synchronous model tests held the cooperative threads).
            let deadline = ContinuousClock.now + .seconds(900)
            while server.batcher.currentStatistics.queuedInputs < 2, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(2))
            }
            #expect(server.batcher.currentStatistics.queuedInputs == 2)
            try await client.execute(uri: "/v1/embeddings", method: .post, body: ByteBuffer(string: #"{"input":"ghi"}"#)) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.retryAfter] == "1")
                let error = try #require(try ServerRouteTests.object(response)["error"] as? [String: Any])
                #expect(error["code"] as? String == "queue_full")
                #expect(error["type"] as? String == "server_overloaded")
            }
            try await client.execute(uri: "/api/embed", method: .post, body: ByteBuffer(string: #"{"input":"ghi"}"#)) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(String(buffer: response.body).contains("queue full"))
            }
            server.batcher.resumeWork()
            let status = try await first
            #expect(status == .ok)
            let text = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            #expect(Self.sample(text, "gemma_embed_rejected_total") == 2)
            #expect(Self.sample(text, "gemma_http_requests_total", [#"route="/v1/embeddings""#, #"status="503""#]) == 1)
            #expect(server.batcher.currentStatistics.rejected == 2)
        }
    }

    @Test("each request is logged as one structured line: method, path, status, duration, inputs, tokens")
    func requestLog() async throws {
        let lines = LogLines()
        let logger = Logger(label: "test.serve") { JSONLogHandler(label: $0, write: lines.append) }
        let server = GemmaServer(model: ServerRouteTests.model)
        try await server.application(logger: logger).test(.router) { client in
            try await client.execute(uri: "/api/embed", method: .post, body: ByteBuffer(string: #"{"input":["abc","hi there"]}"#)) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/api/embed", method: .post, body: ByteBuffer(string: "{")) { response in
                #expect(response.status == .badRequest)
            }
        }
        let requests = lines.objects.filter { $0["message"] as? String == "request" }
        #expect(requests.count == 2)
        let ok = try #require(requests.first)
        #expect(ok["method"] as? String == "POST")
        #expect(ok["path"] as? String == "/api/embed")
        #expect(ok["status"] as? Int == 200)
        #expect(ok["level"] as? String == "info")
        #expect(ok["inputs"] as? Int == 2)
        #expect((ok["tokens"] as? Int ?? 0) > 2)
        #expect(Double(ok["duration_ms"] as? String ?? "") != nil)
        #expect(ok["label"] as? String == "test.serve")
        let bad = try #require(requests.last)
        #expect(bad["status"] as? Int == 400)
        #expect(bad["level"] as? String == "notice")
        #expect(bad["inputs"] == nil)
    }
}
