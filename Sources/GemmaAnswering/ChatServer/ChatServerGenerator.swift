import AsyncHTTPClient
import EmbeddingGemma
import Foundation
import NIOCore
import NIOHTTP1

/// A chat server the user already runs as the answer's generator: an OpenAI-compatible
/// `/v1/chat/completions` (server-sent events) or Ollama's `/api/chat` (NDJSON), both streamed.
///
/// The URL says which: one whose path is `/v1` or ends in `/chat/completions` is OpenAI's API
/// (llama.cpp's llama-server, vLLM, LM Studio, Ollama's `/v1`, `gemma-embed serve --generator`);
/// a bare `http://host:port`, `/api` or `/api/chat` is Ollama's.
///
/// ```swift
/// let generator = try ChatServerGenerator(url: "http://127.0.0.1:11434", model: "gemma3",
///                                         contextLength: 8192, tokenizer: index.model.tokenizer)
/// ```
public struct ChatServerGenerator: AnswerGenerator {
    /// The two streaming chat APIs.
    public enum API: String, Sendable {
        case openAI = "OpenAI"
        case ollama = "Ollama"
    }

    /// The chat endpoint called.
    public let endpoint: String
    public let api: API
    /// The model name sent.
    public let model: String
    /// Sent as `Authorization: Bearer` when set.
    public let apiKey: String?
    public let contextLength: Int
    public let tokenizer: GemmaTokenizer
    /// Longest a whole answer may take.
    public var timeout: Duration = .seconds(600)

    /// - Throws: ``AnswerError/invalidServerURL(_:)`` for a URL that is not `http://` or `https://`,
    ///   ``AnswerError/unknownServerAPI(url:)`` for a path that names neither API.
    public init(url: String, model: String, apiKey: String? = nil, contextLength: Int, tokenizer: GemmaTokenizer) throws(AnswerError) {
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), scheme == "http" || scheme == "https", parsed.host != nil else {
            throw .invalidServerURL(url)
        }
        var base = url
        while base.hasSuffix("/") { base.removeLast() }
        let path = parsed.path.hasSuffix("/") ? String(parsed.path.dropLast()) : parsed.path
        if path.hasSuffix("/chat/completions") {
            (endpoint, api) = (base, .openAI)
        } else if path.hasSuffix("/v1") {
            (endpoint, api) = (base + "/chat/completions", .openAI)
        } else if path.hasSuffix("/api/chat") {
            (endpoint, api) = (base, .ollama)
        } else if path.hasSuffix("/api") {
            (endpoint, api) = (base + "/chat", .ollama)
        } else if path.isEmpty {
            (endpoint, api) = (base + "/api/chat", .ollama)
        } else {
            throw .unknownServerAPI(url: url)
        }
        self.model = model
        self.apiKey = apiKey
        self.contextLength = contextLength
        self.tokenizer = tokenizer
    }

    /// One client for the process. A refused connection fails at once (a generator that is not
    /// running should say so, not be retried for a minute and a half); connecting may take 10 s.
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(10))
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    public func frame(_ body: String) -> String {
        ChatMessage.gemmaPrompt([.user(body)])
    }

    public func write(_ body: String, options: GenerationOptions, onText: @escaping @Sendable (String) -> Void) async throws(AnswerError) -> AnswerGeneration {
        let started = ContinuousClock.now
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: api == .openAI ? "text/event-stream" : "application/x-ndjson")
        if let apiKey, !apiKey.isEmpty { request.headers.add(name: "Authorization", value: "Bearer " + apiKey) }
        request.body = .bytes(ByteBuffer(bytes: requestBody(body, options: options)))
        let response: HTTPClientResponse
        do {
            response = try await Self.client.execute(request, timeout: .seconds(Int64(timeout / .seconds(1))))
        } catch {
            let failure: ChatServerFailure = "\(error)".contains("Connection refused") ? .connectionRefused : .unreachable("\(error)")
            throw .chatServer(endpoint: endpoint, failure)
        }
        guard response.status == .ok else {
            let text = (try? await response.body.collect(upTo: 1 << 16)).map { String(buffer: $0) } ?? ""
            throw .chatServer(endpoint: endpoint, .status(code: Int(response.status.code), reason: response.status.reasonPhrase, message: Self.errorMessage(text)))
        }
        var parser = ChatStreamParser(api: api)
        do {
            var pending: [UInt8] = []
            for try await buffer in response.body {
                pending.append(contentsOf: buffer.readableBytesView)
                while let newline = pending.firstIndex(of: 0x0A) {
                    let line = String(decoding: pending[..<newline], as: UTF8.self)
                    pending.removeSubrange(...newline)
                    if let piece = try parser.read(line), !piece.isEmpty { onText(piece) }
                }
            }
            if !pending.isEmpty, let piece = try parser.read(String(decoding: pending, as: UTF8.self)), !piece.isEmpty { onText(piece) }
        } catch let failure as ChatServerFailure {
            throw .chatServer(endpoint: endpoint, failure)
        } catch {
            throw .chatServer(endpoint: endpoint, .brokenStream("\(error)"))
        }
        guard parser.finished else {
            throw .chatServer(endpoint: endpoint, .incompleteStream(receivedCharacters: parser.text.count))
        }
        return AnswerGeneration(text: parser.text, promptTokens: parser.promptTokens, generatedTokens: parser.generatedTokens,
                                stopReason: parser.stopReason ?? "end", duration: started.duration(to: .now))
    }

    /// The JSON request: one user message, streamed, greedy at temperature 0.
    func requestBody(_ body: String, options: GenerationOptions) -> Data {
        let messages = [["role": "user", "content": body]]
        var object: [String: Any] = ["model": model, "messages": messages, "stream": true]
        switch api {
        case .openAI:
            object["max_tokens"] = options.maxTokens
            object["temperature"] = options.temperature
            object["seed"] = Int64(bitPattern: options.seed)
            object["stream_options"] = ["include_usage": true]
            if options.temperature > 0 { object["top_p"] = options.topP }
        case .ollama:
            var settings: [String: Any] = ["num_predict": options.maxTokens, "temperature": options.temperature, "seed": Int64(bitPattern: options.seed),
                                           "num_ctx": contextLength]
            if options.temperature > 0 {
                settings["top_k"] = options.topK
                settings["top_p"] = options.topP
            }
            object["options"] = settings
        }
        return (try? JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes])) ?? Data()
    }

    /// The message of an error body in either API's shape, else the body itself (shortened).
    static func errorMessage(_ text: String) -> String {
        if let error = try? ChatWire.decode(ChatStreamError.self, from: text) { return error.message }
        let trimmed = String(text.trimmingWhitespace())
        return trimmed.isEmpty ? "(no message)" : String(trimmed.prefix(300))
    }
}
