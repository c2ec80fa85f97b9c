import EmbeddingGemma
import EmbeddingGemmaTestSupport
import Foundation
import GemmaAnswering
import Hummingbird
import HummingbirdTesting
import Testing

/// `ask --generator URL`: the chat client against small live servers on loopback that answer as
/// OpenAI-compatible and Ollama servers do, cut their stream, or fail (fast tier, no weights).
@Suite("Chat server generator (URL mode)")
struct ChatServerGeneratorTests {
    static let tokenizer: GemmaTokenizer = {
        // Force-unwrapping is acceptable in tests: a failure here fails the suite.
        try! EmbeddingModel(path: TinyModel.write()).tokenizer
    }()

    struct Received: Decodable {
        struct Message: Decodable { var role: String; var content: String }
        struct Options: Decodable { var num_predict: Int?; var temperature: Double? }
        var model: String
        var messages: [Message]
        var stream: Bool
        var max_tokens: Int?
        var options: Options?
    }

    /// The text a well-behaved fake answers: built from what it received, so the request is checked too.
    static func answer(_ body: Received) -> [String] {
        ["Hel", "lo ", body.model, " \(body.max_tokens ?? body.options?.num_predict ?? -1)", " \(body.messages.first?.content ?? "")"]
    }

    static func received(_ request: Request) async throws -> Received {
        try JSONDecoder().decode(Received.self, from: Data(try await request.body.collect(upTo: 1 << 20).readableBytesView))
    }

    static func sse(_ lines: [String]) -> Response {
        Response(status: .ok, headers: [.contentType: "text/event-stream"], body: ResponseBody(contentsOf: lines.map { ByteBuffer(string: $0 + "\n\n") }))
    }

    static func ndjson(_ lines: [String]) -> Response {
        Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: ResponseBody(contentsOf: lines.map { ByteBuffer(string: $0 + "\n") }))
    }

    static func quoted(_ text: String) -> String {
        String(decoding: try! JSONEncoder().encode(text), as: UTF8.self)
    }

    static func fakeServers() -> some ApplicationProtocol {
        let router = Router()
        router.post("/ok/v1/chat/completions") { request, _ in
            let body = try await Self.received(request)
            let chunks = answer(body).map { #"data: {"choices":[{"index":0,"delta":{"content":\#(Self.quoted($0))},"finish_reason":null}]}"# }
            return Self.sse([": keep-alive", #"data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#] + chunks
                + [#"data: {"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}"#,
                   #"data: {"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":5,"total_tokens":12}}"#, "data: [DONE]"])
        }
        router.post("/ok/api/chat") { request, _ in
            let body = try await Self.received(request)
            let lines = answer(body).map { #"{"message":{"role":"assistant","content":\#(Self.quoted($0))},"done":false}"# }
            return Self.ndjson(lines + [#"{"message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":9,"eval_count":5}"#])
        }
        router.post("/cut/v1/chat/completions") { _, _ in Self.sse([#"data: {"choices":[{"index":0,"delta":{"content":"Half an"},"finish_reason":null}]}"#]) }
        router.post("/cut/api/chat") { _, _ in Self.ndjson([#"{"message":{"role":"assistant","content":"Half an"},"done":false}"#]) }
        router.post("/fail/v1/chat/completions") { _, _ in
            Response(status: .internalServerError, headers: [.contentType: "application/json"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"error":{"message":"the model ran out of memory","type":"server_error"}}"#)))
        }
        router.post("/fail/api/chat") { _, _ in
            Response(status: .notFound, headers: [.contentType: "application/json"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"error":"model \"gemma9\" not found, try pulling it first"}"#)))
        }
        router.post("/midway/v1/chat/completions") { _, _ in
            Self.sse([#"data: {"choices":[{"index":0,"delta":{"content":"Start"},"finish_reason":null}]}"#,
                 #"data: {"error":{"message":"generation failed","type":"server_error"}}"#, "data: [DONE]"])
        }
        router.post("/garbage/api/chat") { _, _ in Self.ndjson(["<html>not json</html>"]) }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    static func generator(_ url: String) throws -> ChatServerGenerator {
        try ChatServerGenerator(url: url, model: "gemma3", contextLength: 2048, tokenizer: tokenizer)
    }

    /// The error `body` throws, which must be an ``AnswerError``.
    static func failure(_ body: () async throws -> Void) async -> AnswerError? {
        do {
            try await body()
            return nil
        } catch let error as AnswerError {
            return error
        } catch {
            Issue.record("another error: \(error)")
            return nil
        }
    }

    @Test("the URL's path chooses the API; other URLs are clear errors")
    func urls() throws {
        let cases: [(String, String, ChatServerGenerator.API)] = [
            ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1/chat/completions", .openAI),
            ("http://127.0.0.1:8080/v1/", "http://127.0.0.1:8080/v1/chat/completions", .openAI),
            ("https://example.test/openai/v1/chat/completions", "https://example.test/openai/v1/chat/completions", .openAI),
            ("http://127.0.0.1:11434", "http://127.0.0.1:11434/api/chat", .ollama),
            ("http://127.0.0.1:11434/", "http://127.0.0.1:11434/api/chat", .ollama),
            ("http://127.0.0.1:11434/api", "http://127.0.0.1:11434/api/chat", .ollama),
            ("http://127.0.0.1:11434/api/chat", "http://127.0.0.1:11434/api/chat", .ollama),
        ]
        for (url, endpoint, api) in cases {
            let generator = try Self.generator(url)
            #expect(generator.endpoint == endpoint, "\(url)")
            #expect(generator.api == api, "\(url)")
        }
        for bad in ["ftp://127.0.0.1/v1", "127.0.0.1:8080"] {
            #expect(throws: AnswerError.invalidServerURL(bad), "\(bad)") { try Self.generator(bad) }
        }
        #expect(throws: AnswerError.unknownServerAPI(url: "http://127.0.0.1:8080/somewhere")) { try Self.generator("http://127.0.0.1:8080/somewhere") }
    }

    @Test("an OpenAI-compatible SSE stream and an Ollama NDJSON stream give the text, counts and stop reason")
    func streams() async throws {
        try await Self.fakeServers().test(.live) { client in
            let port = try #require(client.port)
            for (path, prompt, reason) in [("/ok/v1", 7, "length"), ("/ok/api", 9, "end")] {
                let pieces = PieceCollector()
                let result = try await Self.generator("http://127.0.0.1:\(port)\(path)")
                    .write("What is X?", options: GenerationOptions(maxTokens: 33), onText: { pieces.add($0) })
                #expect(result.text == "Hello gemma3 33 What is X?", "\(path)")
                #expect(pieces.all == ["Hel", "lo ", "gemma3", " 33", " What is X?"], "\(path): streamed piece by piece")
                #expect(result.promptTokens == prompt && result.generatedTokens == 5, "\(path)")
                #expect(result.stopReason == reason, "\(path)")
            }
        }
    }

    @Test("a cut stream, an error status, an error mid-stream, a non-JSON line and no server are clear errors")
    func failures() async throws {
        try await Self.fakeServers().test(.live) { client in
            let port = try #require(client.port)
            let base = "http://127.0.0.1:\(port)"
            let options = GenerationOptions(maxTokens: 8)
            for (path, endpoint) in [("/cut/v1", "/cut/v1/chat/completions"), ("/cut/api", "/cut/api/chat")] {
                let error = await Self.failure { _ = try await Self.generator(base + path).write("q", options: options, onText: { _ in }) }
                #expect(error == .chatServer(endpoint: base + endpoint, .incompleteStream(receivedCharacters: 7)), "\(path)")
                #expect(error?.description.contains("ended before the answer was complete") == true, "\(path): \(String(describing: error))")
            }
            let status = await Self.failure { _ = try await Self.generator(base + "/fail/v1").write("q", options: options, onText: { _ in }) }
            #expect(status == .chatServer(endpoint: base + "/fail/v1/chat/completions",
                                          .status(code: 500, reason: "Internal Server Error", message: "the model ran out of memory")))
            #expect(status?.description.contains("500") == true, "\(String(describing: status))")
            let missing = await Self.failure { _ = try await Self.generator(base + "/fail/api").write("q", options: options, onText: { _ in }) }
            #expect(missing == .chatServer(endpoint: base + "/fail/api/chat",
                                           .status(code: 404, reason: "Not Found", message: #"model "gemma9" not found, try pulling it first"#)))
            let midway = await Self.failure { _ = try await Self.generator(base + "/midway/v1").write("q", options: options, onText: { _ in }) }
            #expect(midway == .chatServer(endpoint: base + "/midway/v1/chat/completions", .errorInStream("generation failed")))
            let garbage = await Self.failure { _ = try await Self.generator(base + "/garbage/api").write("q", options: options, onText: { _ in }) }
            #expect(garbage == .chatServer(endpoint: base + "/garbage/api/chat", .notJSON("<html>not json</html>")))
            #expect(garbage?.description.contains("not JSON") == true, "\(String(describing: garbage))")
        }
        // A port nothing listens on (bound, then closed).
        let closedPort = try #require(LoopbackPort.unused())
        let unreachable = await Self.failure {
            _ = try await Self.generator("http://127.0.0.1:\(closedPort)/v1").write("q", options: GenerationOptions(maxTokens: 8), onText: { _ in })
        }
        #expect(unreachable == .chatServer(endpoint: "http://127.0.0.1:\(closedPort)/v1/chat/completions", .connectionRefused))
        #expect(unreachable?.description.contains("cannot reach http://127.0.0.1:\(closedPort)/v1/chat/completions") == true, "\(String(describing: unreachable))")
    }
}
