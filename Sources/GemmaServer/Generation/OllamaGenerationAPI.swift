import EmbeddingGemma
import Foundation
import GemmaAnswering
import Hummingbird

/// Ollama's `/api/generate` and `/api/chat` on the server's generator (`serve --generator`),
/// streaming NDJSON by default (`"stream": false` for one object), as Ollama does.
struct OllamaGenerationAPI: Sendable {
    let service: GenerationService
    let maxBodyBytes: Int
    /// Requests naming the embedding model get a 400 saying it only embeds.
    let embeddingModelName: String

    struct Options: Decodable {
        var temperature: Double?
        var top_k: Int?
        var top_p: Double?
        var seed: Int?
        var num_predict: Int?
        var stop: StopField?
    }

    struct GenerateRequest: Decodable {
        var model: String?
        var prompt: String?
        var system: String?
        var raw: Bool?
        var stream: Bool?
        var options: Options?
        var images: PresenceField?
        var format: PresenceField?
    }

    struct Message: Decodable {
        var role: String
        var content: String?
        var images: PresenceField?
    }

    struct ChatRequest: Decodable {
        var model: String?
        var messages: [Message]?
        var stream: Bool?
        var options: Options?
        var tools: PresenceField?
        var format: PresenceField?
    }

    func register(on router: Router<ServerRequestContext>) {
        router.post("/api/generate") { request, _ in await APIError.answer(.ollama) { try await generate(request) } }
        router.post("/api/chat") { request, _ in await APIError.answer(.ollama) { try await chat(request) } }
    }

    private func generate(_ request: Request) async throws(APIError) -> Response {
        let body = try await RequestDecoding.decode(GenerateRequest.self, from: request, maxBytes: maxBodyBytes)
        let model = try checkModel(body.model, action: "generate")
        if body.images?.isSet == true { throw APIError(.badRequest, "\(model) does not take images: send text only", param: "images") }
        if body.format?.isSet == true { throw APIError(.badRequest, "structured output ('format') is not supported by this server", param: "format") }
        guard let text = body.prompt, !text.isEmpty else {
            // Ollama answers an empty prompt by loading the model.
            return jsonResponse(ChatWire.json(OllamaStreamLine(model: model, createdAt: GenerationClock.timestamp(), response: "", done: true, doneReason: "load")))
        }
        let generator = service.generator
        let prompt: String
        if body.raw == true {
            prompt = text
        } else if generator.isInstructionTuned {
            prompt = ChatMessage.gemmaPrompt((body.system.map { [ChatMessage(role: .system, content: $0)] } ?? []) + [.user(text)])
        } else {
            prompt = (body.system.map { $0 + "\n\n" } ?? "") + text
        }
        return try await respond(prompt: prompt, settings: body.options, stream: body.stream ?? true, model: model) { line, piece in
            line.response = piece
        }
    }

    private func chat(_ request: Request) async throws(APIError) -> Response {
        let body = try await RequestDecoding.decode(ChatRequest.self, from: request, maxBytes: maxBodyBytes)
        let model = try checkModel(body.model, action: "chat")
        if body.tools?.isSet == true { throw APIError(.badRequest, "\(model) does not support tools", param: "tools") }
        if body.format?.isSet == true { throw APIError(.badRequest, "structured output ('format') is not supported by this server", param: "format") }
        guard let messages = body.messages, !messages.isEmpty else {
            throw APIError(.badRequest, "'messages' must hold at least one message", param: "messages")
        }
        var turns: [ChatMessage] = []
        for (i, message) in messages.enumerated() {
            guard let role = ChatMessage.Role(rawValue: message.role) else {
                throw APIError(.badRequest, "messages[\(i)].role '\(message.role)' is not one of system, user, assistant", param: "messages")
            }
            if message.images?.isSet == true { throw APIError(.badRequest, "\(model) does not take images: send text only", param: "messages") }
            turns.append(ChatMessage(role: role, content: message.content ?? ""))
        }
        return try await respond(prompt: ChatMessage.gemmaPrompt(turns), settings: body.options, stream: body.stream ?? true, model: model) { line, piece in
            line.message = .init(content: piece)
        }
    }

    /// The model name answered under; a 400 when it names the embedding model.
    private func checkModel(_ name: String?, action: String) throws(APIError) -> String {
        guard let name, !name.isEmpty else { throw APIError(.badRequest, "missing field 'model'", param: "model") }
        let base = name.split(separator: ":").first.map(String.init) ?? name
        if base == embeddingModelName {
            throw APIError(.badRequest, "\"\(name)\" does not support \(action): it is an embedding model; use \(service.name) (or /api/embed for vectors)")
        }
        return name
    }

    /// Runs the generation and answers NDJSON lines (`stream`) or one object; `carry` puts the
    /// text into each line (`response` for generate, `message` for chat).
    private func respond(prompt: String, settings: Options?, stream: Bool, model: String,
                         carry: @escaping @Sendable (inout OllamaStreamLine, String) -> Void) async throws(APIError) -> Response {
        let values = GenerationSettings(maxTokens: settings?.num_predict.flatMap { $0 < 0 ? nil : $0 }, temperature: settings?.temperature,
                                        topK: settings?.top_k, topP: settings?.top_p, seed: settings?.seed, stop: settings?.stop?.values ?? [])
        let options = try values.options(prompt: prompt, generator: service.generator, names: .init(maxTokens: "num_predict"))
        let events = try service.submit(prompt, options: options)
        let started = ContinuousClock.now
        let final: @Sendable (GenerationResult, String) -> OllamaStreamLine = { result, text in
            var line = OllamaStreamLine(model: model, createdAt: GenerationClock.timestamp(), done: true,
                                        doneReason: result.stopReason == .maxTokens ? "length" : "stop",
                                        totalDuration: GenerationClock.nanoseconds(started.duration(to: .now)), loadDuration: 0,
                                        promptEvalCount: result.promptTokens, promptEvalDuration: GenerationClock.nanoseconds(result.promptDuration),
                                        evalCount: result.tokens.count, evalDuration: GenerationClock.nanoseconds(result.generationDuration))
            carry(&line, text)
            return line
        }
        guard stream else {
            var text = ""
            do {
                for try await event in events {
                    switch event {
                    case .text(let piece): text += piece
                    case .finished(let result): return jsonResponse(ChatWire.json(final(result, text)))
                    }
                }
            } catch let error as APIError {
                throw error
            } catch {
                throw APIError(.internalServerError, "generation failed: \(error)")
            }
            throw APIError(.internalServerError, "the generation ended without a result")
        }
        let body = ResponseBody { writer in
            do {
                for try await event in events {
                    switch event {
                    case .text(let piece):
                        var line = OllamaStreamLine(model: model, createdAt: GenerationClock.timestamp(), done: false)
                        carry(&line, piece)
                        try await writer.write(ByteBuffer(bytes: ChatWire.line(line)))
                    case .finished(let result):
                        try await writer.write(ByteBuffer(bytes: ChatWire.line(final(result, ""))))
                    }
                }
            } catch let error as APIError {
                try await writer.write(ByteBuffer(bytes: ChatWire.line(ChatStreamError(message: error.message))))
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: body)
    }
}
