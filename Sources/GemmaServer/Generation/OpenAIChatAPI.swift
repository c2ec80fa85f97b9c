import EmbeddingGemma
import Foundation
import GemmaAnswering
import Hummingbird

/// OpenAI's `POST /v1/chat/completions` on the server's generator (`serve --generator`): one
/// `chat.completion` object, or with `"stream": true` server-sent `chat.completion.chunk` events
/// ending in `data: [DONE]`.
struct OpenAIChatAPI: Sendable {
    let service: GenerationService
    let maxBodyBytes: Int
    /// Requests naming the embedding model get a 400 saying it only embeds.
    let embeddingModelName: String

    /// `content`: a string or a list of parts, of which only text parts are read.
    enum Content: Decodable {
        case text(String)
        case unsupportedPart(String)

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() {
                self = .text("")
            } else if let text = try? container.decode(String.self) {
                self = .text(text)
            } else if let parts = try? container.decode([Part].self) {
                if let other = parts.first(where: { $0.type != "text" }) {
                    self = .unsupportedPart(other.type)
                } else {
                    self = .text(parts.compactMap(\.text).joined(separator: "\n"))
                }
            } else {
                throw DecodingError.typeMismatch(String.self, .init(codingPath: decoder.codingPath,
                                                                    debugDescription: "content must be a string or an array of text parts"))
            }
        }

        struct Part: Decodable {
            var type: String
            var text: String?
        }
    }

    struct Message: Decodable {
        var role: String
        var content: Content?
    }

    struct StreamOptions: Decodable {
        var include_usage: Bool?
    }

    struct ResponseFormat: Decodable {
        var type: String
    }

    struct ChatRequest: Decodable {
        var model: String?
        var messages: [Message]?
        var stream: Bool?
        var stream_options: StreamOptions?
        var max_tokens: Int?
        var max_completion_tokens: Int?
        var temperature: Double?
        var top_p: Double?
        var top_k: Int?
        var seed: Int?
        var stop: StopField?
        var n: Int?
        var tools: PresenceField?
        var logprobs: Bool?
        var response_format: ResponseFormat?
    }

    func register(on router: Router<ServerRequestContext>) {
        router.post("/v1/chat/completions") { request, _ in await APIError.answer(.openAI) { try await complete(request) } }
    }

    private func complete(_ request: Request) async throws(APIError) -> Response {
        let body = try await RequestDecoding.decode(ChatRequest.self, from: request, maxBytes: maxBodyBytes)
        guard let model = body.model, !model.isEmpty else { throw APIError(.badRequest, "missing field 'model'", param: "model") }
        if (model.split(separator: ":").first.map(String.init) ?? model) == embeddingModelName {
            throw APIError(.badRequest, "\"\(model)\" is an embedding model and cannot chat; use \(service.name) (or /v1/embeddings for vectors)",
                           param: "model", code: "model_not_supported")
        }
        if let n = body.n, n != 1 { throw APIError(.badRequest, "n must be 1: one completion per request", param: "n") }
        if body.tools?.isSet == true { throw APIError(.badRequest, "\(model) does not support tools", param: "tools") }
        if body.logprobs == true { throw APIError(.badRequest, "logprobs are not supported by this server", param: "logprobs") }
        if let format = body.response_format?.type, format != "text" {
            throw APIError(.badRequest, "response_format '\(format)' is not supported: only 'text'", param: "response_format")
        }
        guard let messages = body.messages, !messages.isEmpty else {
            throw APIError(.badRequest, "'messages' must hold at least one message", param: "messages")
        }
        var turns: [ChatMessage] = []
        for (i, message) in messages.enumerated() {
            let role: ChatMessage.Role
            switch message.role {
            case "system", "developer": role = .system
            case "user": role = .user
            case "assistant": role = .assistant
            default: throw APIError(.badRequest, "messages[\(i)].role '\(message.role)' is not supported: system, developer, user or assistant", param: "messages")
            }
            switch message.content ?? .text("") {
            case .text(let text): turns.append(ChatMessage(role: role, content: text))
            case .unsupportedPart(let type):
                throw APIError(.badRequest, "messages[\(i)] holds a '\(type)' part: this model reads text only", param: "messages")
            }
        }
        let prompt = ChatMessage.gemmaPrompt(turns)
        let settings = GenerationSettings(maxTokens: body.max_completion_tokens ?? body.max_tokens, temperature: body.temperature, topK: body.top_k,
                                          topP: body.top_p, seed: body.seed, stop: body.stop?.values ?? [])
        let name = body.max_completion_tokens != nil ? "max_completion_tokens" : "max_tokens"
        let options = try settings.options(prompt: prompt, generator: service.generator, names: .init(maxTokens: name))
        let events = try service.submit(prompt, options: options)
        let id = "chatcmpl-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let created = Int(Date().timeIntervalSince1970)
        guard body.stream == true else {
            var text = ""
            do {
                for try await event in events {
                    switch event {
                    case .text(let piece): text += piece
                    case .finished(let result):
                        let choice = OpenAIChatCompletion.Choice(message: .init(content: text), finishReason: Self.finishReason(result))
                        return jsonResponse(ChatWire.json(OpenAIChatCompletion(id: id, created: created, model: model, choices: [choice],
                                                                               usage: Self.usage(result))))
                    }
                }
            } catch let error as APIError {
                throw error
            } catch {
                throw APIError(.internalServerError, "generation failed: \(error)")
            }
            throw APIError(.internalServerError, "the generation ended without a result")
        }
        let includeUsage = body.stream_options?.include_usage == true
        let chunk: @Sendable (OpenAIChatChunk.Delta, String?) -> ByteBuffer = { delta, finish in
            ByteBuffer(bytes: ChatWire.event(OpenAIChatChunk(id: id, created: created, model: model, choices: [.init(delta: delta, finishReason: finish)])))
        }
        let stream = ResponseBody { writer in
            try await writer.write(chunk(.init(role: "assistant", content: ""), nil))
            do {
                for try await event in events {
                    switch event {
                    case .text(let piece):
                        try await writer.write(chunk(.init(content: piece), nil))
                    case .finished(let result):
                        try await writer.write(chunk(.init(), Self.finishReason(result)))
                        if includeUsage {
                            let usage = OpenAIChatChunk(id: id, created: created, model: model, choices: [], usage: Self.usage(result))
                            try await writer.write(ByteBuffer(bytes: ChatWire.event(usage)))
                        }
                    }
                }
            } catch let error as APIError {
                try await writer.write(ByteBuffer(bytes: ChatWire.event(ChatStreamError(message: error.message, type: "server_error"))))
            }
            try await writer.write(ByteBuffer(bytes: ChatWire.doneEvent))
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: stream)
    }

    static func finishReason(_ result: GenerationResult) -> String {
        result.stopReason == .maxTokens ? "length" : "stop"
    }

    static func usage(_ result: GenerationResult) -> OpenAIChatUsage {
        OpenAIChatUsage(promptTokens: result.promptTokens, completionTokens: result.tokens.count)
    }
}
