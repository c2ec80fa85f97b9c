import EmbeddingGemma
import EmbeddingGemmaTestSupport
import Foundation
import GemmaAnswering
@testable import GemmaServer
import Hummingbird
import HummingbirdTesting
import Testing

/// `serve --generator`: `/v1/chat/completions`, `/api/chat` and `/api/generate` on the real Gemma 3
/// 270M generator give the engine's own greedy text, streamed and not, and `ask`'s URL client reads
/// both streams from this server (release tier; the embedding side is the tiny model).
@Suite("Generation routes on the real generator", .serialized, .enabled(if: GeneratorFile.available))
struct GenerationRouteTests {
    static let path: String = GeneratorFile.path

    static let generator: TextGenerator = {
        // Force-unwrapping is acceptable in tests: a failure here fails the suite.
        try! TextGenerator(path: path, contextLength: 1024)
    }()

    static let server: GemmaServer = {
        try! GemmaServer(model: EmbeddingModel(path: TinyModel.write()), configuration: .init(host: "127.0.0.1", port: 0), generator: generator)
    }()

    static let messages: [ChatMessage] = [ChatMessage(role: .system, content: "You answer briefly."), ChatMessage.user("Name three colours.")]
    static let messagesJSON: String = #"[{"role":"system","content":"You answer briefly."},{"role":"user","content":"Name three colours."}]"#

    static func greedy(_ prompt: String, tokens: Int, stop: [String] = []) throws -> GenerationResult {
        try generator.generate(prompt, options: GenerationOptions(maxTokens: tokens, temperature: 0, stopSequences: stop))
    }

    static func object(_ bytes: some Sequence<UInt8>) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    @Test("/v1/chat/completions: one object and an SSE stream, both the engine's greedy text, with usage")
    func openAIChat() async throws {
        let expected = try Self.greedy(ChatMessage.gemmaPrompt(Self.messages), tokens: 12)
        try #require(!expected.text.isEmpty)
        try await Self.server.application().test(.router) { client in
            let body = #"{"model":"gemma3","messages":\#(Self.messagesJSON),"temperature":0,"max_tokens":12}"#
            try await client.execute(uri: "/v1/chat/completions", method: .post, body: ByteBuffer(string: body)) { response in
                #expect(response.status == .ok)
                let object = try Self.object(response.body.readableBytesView)
                let choice = try #require((object["choices"] as? [[String: Any]])?.first)
                #expect((choice["message"] as? [String: Any])?["content"] as? String == expected.text)
                #expect(choice["finish_reason"] as? String == (expected.stopReason == .maxTokens ? "length" : "stop"))
                let usage = try #require(object["usage"] as? [String: Int])
                #expect(usage["prompt_tokens"] == expected.promptTokens && usage["completion_tokens"] == expected.tokens.count)
                #expect(object["object"] as? String == "chat.completion")
            }
            let streamed = #"{"model":"gemma3","messages":\#(Self.messagesJSON),"temperature":0,"max_tokens":12,"stream":true,"stream_options":{"include_usage":true}}"#
            try await client.execute(uri: "/v1/chat/completions", method: .post, body: ByteBuffer(string: streamed)) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/event-stream")
                let events = String(buffer: response.body).components(separatedBy: "\n\n").filter { !$0.isEmpty }
                #expect(events.last == "data: [DONE]")
                let chunks = try events.dropLast().map { event in
                    try #require(event.hasPrefix("data: ") ? event.dropFirst(6) : nil)
                }.map { try Self.object($0.utf8) }
                let text = chunks.compactMap { (($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["content"] as? String }.joined()
                #expect(text == expected.text)
                #expect(chunks.count >= 4, "a role chunk, content chunks, a finish chunk and usage")
                #expect(((chunks.last?["usage"] as? [String: Int])?["completion_tokens"]) == expected.tokens.count)
            }
        }
    }

    @Test("/api/chat streams NDJSON by default and /api/generate answers one object; both the engine's greedy text")
    func ollamaRoutes() async throws {
        let chat = try Self.greedy(ChatMessage.gemmaPrompt(Self.messages), tokens: 10)
        let completion = try Self.greedy("The capital of France is", tokens: 10)
        #expect(completion.text == " the capital of the country of France. It is")
        try await Self.server.application().test(.router) { client in
            let body = #"{"model":"gemma3","messages":\#(Self.messagesJSON),"options":{"temperature":0,"num_predict":10}}"#
            try await client.execute(uri: "/api/chat", method: .post, body: ByteBuffer(string: body)) { response in
                #expect(response.status == .ok)
                let lines = try String(buffer: response.body).split(separator: "\n").map { try Self.object($0.utf8) }
                let text = lines.compactMap { ($0["message"] as? [String: Any])?["content"] as? String }.joined()
                #expect(text == chat.text)
                let last = try #require(lines.last)
                #expect(last["done"] as? Bool == true && lines.dropLast().allSatisfy { $0["done"] as? Bool == false })
                #expect(last["eval_count"] as? Int == chat.tokens.count && last["prompt_eval_count"] as? Int == chat.promptTokens)
            }
            let generate = #"{"model":"gemma3","prompt":"The capital of France is","stream":false,"options":{"temperature":0,"num_predict":10}}"#
            try await client.execute(uri: "/api/generate", method: .post, body: ByteBuffer(string: generate)) { response in
                #expect(response.status == .ok)
                let object = try Self.object(response.body.readableBytesView)
                #expect(object["response"] as? String == completion.text)
                #expect(object["done"] as? Bool == true && object["done_reason"] as? String == "length")
            }
            // Stop sequences end the text before them.
            let stopped = #"{"model":"gemma3","prompt":"The capital of France is","stream":false,"options":{"temperature":0,"num_predict":10,"stop":["country"]}}"#
            try await client.execute(uri: "/api/generate", method: .post, body: ByteBuffer(string: stopped)) { response in
                let object = try Self.object(response.body.readableBytesView)
                #expect(object["response"] as? String == " the capital of the ")
                #expect(object["done_reason"] as? String == "stop")
            }
        }
    }

    @Test("bad generation requests get a 400 naming the problem", arguments: [
        ("/v1/chat/completions", #"{"model":"gemma3","messages":[]}"#, "messages"),
        ("/v1/chat/completions", #"{"model":"gemma3","messages":[{"role":"tool","content":"x"}]}"#, "role 'tool'"),
        ("/v1/chat/completions", #"{"model":"gemma3","messages":[{"role":"user","content":"x"}],"n":2}"#, "n must be 1"),
        ("/v1/chat/completions", #"{"model":"gemma3","messages":[{"role":"user","content":"x"}],"max_tokens":0}"#, "max_tokens"),
        ("/v1/chat/completions", #"{"model":"gemma3","messages":[{"role":"user","content":"x"}],"max_tokens":5000}"#, "no room"),
        ("/v1/chat/completions", #"{"model":"gemma3","messages":[{"role":"user","content":"x"}],"top_p":0}"#, "top_p"),
        ("/v1/chat/completions", #"{"model":"gemma3","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}"#, "text only"),
        ("/v1/chat/completions", #"{"model":"gemma3","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function"}]}"#, "does not support tools"),
        ("/v1/chat/completions", #"{"model":"embeddinggemma","messages":[{"role":"user","content":"x"}]}"#, "embedding model"),
        ("/v1/chat/completions", #"{"messages":[{"role":"user","content":"x"}]}"#, "model"),
        ("/api/chat", #"{"model":"gemma3","messages":[{"role":"user","content":"x","images":["aGk="]}]}"#, "images"),
        ("/api/chat", #"{"model":"gemma3","messages":[{"role":"user","content":"x"}],"format":"json"}"#, "format"),
        ("/api/chat", #"{"model":"gemma3","messages":"hi"}"#, "messages"),
        ("/api/generate", #"{"model":"embeddinggemma:query","prompt":"x"}"#, "embedding model"),
        ("/api/generate", #"{"model":"gemma3","prompt":"x","options":{"temperature":-1}}"#, "temperature"),
    ])
    func badRequests(path: String, body: String, message: String) async throws {
        try await Self.server.application().test(.router) { client in
            try await client.execute(uri: path, method: .post, body: ByteBuffer(string: body)) { response in
                #expect(response.status == .badRequest, "\(path) \(body)")
                #expect(String(buffer: response.body).contains(message), "\(path) \(body): \(String(buffer: response.body))")
            }
        }
    }

    @Test("ask's URL client reads this server's SSE and NDJSON streams: the engine's greedy answer to the same message")
    func urlClientAgainstThisServer() async throws {
        let body = "Answer in one word. What colour is the sky?"
        let expected = try Self.greedy(ChatMessage.gemmaPrompt([.user(body)]), tokens: 8)
        try await Self.server.application().test(.live) { client in
            let port = try #require(client.port)
            for url in ["http://127.0.0.1:\(port)/v1", "http://127.0.0.1:\(port)"] {
                let generator = try ChatServerGenerator(url: url, model: "gemma3", contextLength: 1024, tokenizer: Self.generator.tokenizer)
                let pieces = PieceCollector()
                let result = try await generator.write(body, options: GenerationOptions(maxTokens: 8, temperature: 0), onText: { pieces.add($0) })
                #expect(result.text == expected.text, "\(url)")
                #expect(pieces.all.joined() == expected.text && pieces.all.count > 1, "\(url): streamed")
                #expect(result.generatedTokens == expected.tokens.count && result.promptTokens == expected.promptTokens, "\(url)")
            }
        }
    }
}

/// The Gemma 3 270M file of scripts/fetch-generator.sh, required when EMBEDDINGGEMMA_REQUIRE_MODEL=1.
enum GeneratorFile {
    static let path: String = TextGenerator.defaultPath
    static var available: Bool {
        ProcessInfo.processInfo.environment["EMBEDDINGGEMMA_REQUIRE_MODEL"] == "1" || FileManager.default.fileExists(atPath: path)
    }
}
