import EmbeddingGemma
import EmbeddingGemmaTestSupport
import Foundation
@testable import GemmaServer
import Hummingbird
import HummingbirdTesting
import Testing

/// Every route and error path of the server, driven in-process on the tiny model.
@Suite("Server routes on a tiny model")
struct ServerRouteTests {
    static let model: EmbeddingModel = {
        // Force-unwrapping is acceptable in tests: a failure here fails the suite.
        try! EmbeddingModel(path: TinyModel.write())
    }()

    static func app(apiKey: String? = nil, limits: ServerLimits = ServerLimits()) -> some ApplicationProtocol {
        GemmaServer(model: model, configuration: .init(apiKey: apiKey, limits: limits)).application()
    }

    static func object(_ response: TestResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
    }

    static func vectors(_ value: Any?) throws -> [[Float]] {
        try #require(value as? [[Double]]).map { $0.map(Float.init) }
    }

    static func close(_ a: [Float], _ b: [Float]) -> Bool {
        a.count == b.count && VectorMath.cosine(a, b) >= 0.99999
    }

    @Test("/api/embed: a string or an array, vectors equal to the library's, prompts chosen by field or model tag")
    func ollamaEmbed() async throws {
        try await Self.app().test(.router) { client in
            try await client.execute(uri: "/api/embed", method: .post, body: ByteBuffer(string: #"{"model":"embeddinggemma","input":["abc","hi there"]}"#)) { response in
                #expect(response.status == .ok)
                let body = try Self.object(response)
                let vectors = try Self.vectors(body["embeddings"])
                let expected = try Self.model.encode(["abc", "hi there"])
                #expect(vectors.count == 2 && zip(vectors, expected).allSatisfy { Self.close($0, $1) })
                #expect(body["model"] as? String == "embeddinggemma")
                #expect((body["prompt_eval_count"] as? Int ?? 0) > 0)
                #expect(body["total_duration"] is Int)
            }
            try await client.execute(uri: "/api/embed", method: .post, body: ByteBuffer(string: #"{"model":"embeddinggemma:query","input":"abc"}"#)) { response in
                let vectors = try Self.vectors(try Self.object(response)["embeddings"])
                #expect(Self.close(vectors[0], try Self.model.encode("abc", prompt: .named("query"))))
            }
            try await client.execute(uri: "/api/embed", method: .post, body: ByteBuffer(string: #"{"input":"abc","prompt_name":"document","title":"hi"}"#)) { response in
                let vectors = try Self.vectors(try Self.object(response)["embeddings"])
                #expect(Self.close(vectors[0], try Self.model.encodeDocument("abc", title: "hi")))
            }
            try await client.execute(uri: "/api/embeddings", method: .post, body: ByteBuffer(string: #"{"model":"embeddinggemma","prompt":"abc"}"#)) { response in
                let vector = try #require(try Self.object(response)["embedding"] as? [Double]).map(Float.init)
                #expect(Self.close(vector, try Self.model.encode("abc")))
            }
        }
    }

    @Test("/v1/embeddings: float and base64 in input order, usage; /v1/models")
    func openAIEmbeddings() async throws {
        try await Self.app().test(.router) { client in
            var floats: [[Float]] = []
            try await client.execute(uri: "/v1/embeddings", method: .post, body: ByteBuffer(string: #"{"model":"embeddinggemma","input":["hi","abc abc"]}"#)) { response in
                #expect(response.status == .ok)
                let body = try Self.object(response)
                let data = try #require(body["data"] as? [[String: Any]])
                #expect(data.map { $0["index"] as? Int } == [0, 1])
                floats = try data.map { try #require($0["embedding"] as? [Double]).map(Float.init) }
                let expected = try Self.model.encode(["hi", "abc abc"])
                #expect(zip(floats, expected).allSatisfy { Self.close($0, $1) })
                let usage = try #require(body["usage"] as? [String: Any])
                #expect((usage["prompt_tokens"] as? Int ?? 0) > 0)
            }
            try await client.execute(uri: "/v1/embeddings", method: .post,
                                     body: ByteBuffer(string: #"{"model":"embeddinggemma","input":["hi","abc abc"],"encoding_format":"base64"}"#)) { response in
                let data = try #require(try Self.object(response)["data"] as? [[String: Any]])
                for (entry, expected) in zip(data, floats) {
                    let encoded = try #require(entry["embedding"] as? String)
                    let bytes = try #require(Data(base64Encoded: encoded))
                    let decoded = bytes.withUnsafeBytes { raw in
                        (0..<(raw.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
                    }
                    #expect(decoded == expected)
                }
            }
            try await client.execute(uri: "/v1/models", method: .get) { response in
                let data = try #require(try Self.object(response)["data"] as? [[String: Any]])
                #expect(data.first?["id"] as? String == "embeddinggemma")
            }
        }
    }

    @Test("errors come in each API's shape with the right status", arguments: [
        ("/api/embed", #"{"input": "#, 400, "not valid JSON"),
        ("/api/embed", #"{"input": 5}"#, 400, "input"),
        ("/api/embed", #"{"input": []}"#, 400, "input is empty"),
        ("/api/embed", #"{"model": "x"}"#, 400, "missing field 'input'"),
        ("/api/embed", #"{"input": "abc", "prompt_name": "nope"}"#, 400, "unknown prompt_name"),
        ("/api/embed", #"{"input": "abc", "dimensions": 7}"#, 400, "dimensions 7 is not supported"),
        ("/api/embed", "{\"input\": \"\(String(repeating: "xy ", count: 200))\", \"truncate\": false}", 400, "over the model's limit"),
        ("/api/generate", #"{"model": "embeddinggemma", "prompt": "hi"}"#, 400, "embedding model"),
        ("/api/chat", #"{"model": "embeddinggemma", "messages": []}"#, 400, "embedding model"),
        ("/v1/chat/completions", #"{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}"#, 400, "has no generator configured"),
        ("/v1/embeddings", #"{"input": [[1, 2, 3]]}"#, 400, "check_embedding_ctx_length=False"),
        ("/v1/embeddings", #"{"input": [1, 2, 3]}"#, 400, "check_embedding_ctx_length=False"),
        ("/v1/embeddings", #"{"input": "abc", "encoding_format": "int8"}"#, 400, "encoding_format"),
        ("/v1/embeddings", "", 400, "empty"),
    ])
    func errors(path: String, body: String, status: Int, message: String) async throws {
        try await Self.app().test(.router) { client in
            try await client.execute(uri: path, method: .post, body: ByteBuffer(string: body)) { response in
                #expect(response.status.code == status)
                let object = try Self.object(response)
                let text: String
                if path.hasPrefix("/v1/") {
                    let error = try #require(object["error"] as? [String: Any])
                    text = try #require(error["message"] as? String)
                    #expect(error["type"] as? String == "invalid_request_error")
                } else {
                    text = try #require(object["error"] as? String)
                }
                #expect(text.contains(message), "\(text)")
            }
        }
    }

    @Test("over-long input is truncated by default, like Ollama with truncate: true")
    func truncation() async throws {
        try await Self.app().test(.router) { client in
            let long = String(repeating: "xy ", count: 200)
            try await client.execute(uri: "/api/embed", method: .post, body: ByteBuffer(string: "{\"input\": \"\(long)\"}")) { response in
                #expect(response.status == .ok)
                let vectors = try Self.vectors(try Self.object(response)["embeddings"])
                #expect(Self.close(vectors[0], try Self.model.encode(long)))
            }
        }
    }

    @Test("limits: an oversize body is 413, too many inputs 400")
    func limits() async throws {
        try await Self.app(limits: ServerLimits(maxBodyBytes: 64, maxInputsPerRequest: 2)).test(.router) { client in
            try await client.execute(uri: "/api/embed", method: .post, body: ByteBuffer(string: "{\"input\": \"\(String(repeating: "a", count: 100))\"}")) { response in
                #expect(response.status == .contentTooLarge)
            }
            try await client.execute(uri: "/v1/embeddings", method: .post, body: ByteBuffer(string: #"{"input": ["a","b","c"]}"#)) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("the limit is 2"))
            }
        }
    }

    @Test("with an API key: 401 without it or with a wrong one, 200 with it; the health check stays open")
    func apiKey() async throws {
        try await Self.app(apiKey: "s3cret").test(.router) { client in
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "Ollama is running")
            }
            try await client.execute(uri: "/api/embed", method: .post, body: ByteBuffer(string: #"{"input":"abc"}"#)) { response in
                #expect(response.status == .unauthorized)
                let object = try Self.object(response)
                #expect(object["error"] is String)
            }
            try await client.execute(uri: "/v1/embeddings", method: .post, headers: [.authorization: "Bearer wrong"],
                                     body: ByteBuffer(string: #"{"input":"abc"}"#)) { response in
                #expect(response.status == .unauthorized)
                let object = try Self.object(response)
                #expect((object["error"] as? [String: Any])?["type"] as? String == "authentication_error")
            }
            try await client.execute(uri: "/v1/embeddings", method: .post, headers: [.authorization: "Bearer s3cret"],
                                     body: ByteBuffer(string: #"{"input":"abc"}"#)) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test("/api/tags, /api/show, /api/version and /api/ps describe the model")
    func ollamaInfo() async throws {
        try await Self.app().test(.router) { client in
            try await client.execute(uri: "/api/tags", method: .get) { response in
                let models = try #require(try Self.object(response)["models"] as? [[String: Any]])
                #expect(models.first?["name"] as? String == "embeddinggemma:latest")
            }
            try await client.execute(uri: "/api/show", method: .post, body: ByteBuffer(string: #"{"model":"embeddinggemma"}"#)) { response in
                let object = try Self.object(response)
                #expect((object["capabilities"] as? [String]) == ["embedding"])
            }
            try await client.execute(uri: "/api/version", method: .get) { response in
                let object = try Self.object(response)
                #expect(object["version"] is String)
            }
            try await client.execute(uri: "/api/ps", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }
}

@Suite("Batching")
struct BatcherTests {
    @Test("concurrent requests share passes and each gets its own vectors, in order")
    func sharedPasses() async throws {
        let model = ServerRouteTests.model
        let batcher = EmbeddingBatcher(model: model, configuration: .init(maxWait: .milliseconds(20)))
        let texts = (0..<24).map { "abc \($0) hi" }
        // The worker waits until all 24 requests are queued, so the packing does not depend on timing.
        batcher.holdWork()
        let results = try await withThrowingTaskGroup(of: (Int, [Float]).self) { group in
            for (i, text) in texts.enumerated() {
                group.addTask { (i, try await batcher.embed([EmbeddingRequest(text: text)])[0].vector) }
            }
            let deadline = ContinuousClock.now + .seconds(900)
            while batcher.currentStatistics.queuedInputs < texts.count, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(2))
            }
            batcher.resumeWork()
            var out = [[Float]](repeating: [], count: texts.count)
            for try await (i, vector) in group { out[i] = vector }
            return out
        }
        let expected = try model.encode(texts)
        #expect(zip(results, expected).allSatisfy { ServerRouteTests.close($0, $1) })
        let statistics = batcher.currentStatistics
        #expect(statistics.inputs == 24)
        #expect(statistics.passes == 1, "the 24 queued requests share one pass: \(statistics.passes) passes")
        batcher.shutdown()
    }
}
