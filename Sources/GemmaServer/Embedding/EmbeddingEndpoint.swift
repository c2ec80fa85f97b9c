import EmbeddingGemma
import Hummingbird

/// What the Ollama and OpenAI routes share: limits, validation, the batcher, error mapping.
struct EmbeddingEndpoint: Sendable {
    let batcher: EmbeddingBatcher
    let limits: ServerLimits
    /// The name the model is listed under (`embeddinggemma`).
    let modelName: String

    var model: EmbeddingModel { batcher.model }

    /// Embeds `texts` with `prompt`, through the batcher.
    /// - Throws: ``APIError`` with the status and message each failure deserves.
    /// - Parameter usage: receives the inputs and tokens embedded, for the request log.
    func embed(_ texts: [String], prompt: Prompt, dimensions: Int?, truncate: Bool, usage: RequestUsage) async throws(APIError) -> [Embedding] {
        guard !texts.isEmpty else { throw APIError(.badRequest, "input is empty: send a string or a non-empty array of strings", param: "input") }
        guard texts.count <= limits.maxInputsPerRequest else {
            throw APIError(.badRequest, "\(texts.count) inputs in one request; the limit is \(limits.maxInputsPerRequest)", param: "input")
        }
        if let dimensions {
            let supported = EmbeddingModel.supportedDimensions.filter { $0 <= model.dimensions }
            guard dimensions == model.dimensions || supported.contains(dimensions) else {
                throw APIError(.badRequest, "dimensions \(dimensions) is not supported; choose one of \(supported.map(String.init).joined(separator: ", "))",
                               param: "dimensions")
            }
        }
        let tokens = texts.reduce(0) { $0 + model.tokenizer.encode($1, addSpecialTokens: false).count }
        guard tokens <= limits.maxTokensPerRequest else {
            throw APIError(.contentTooLarge, "\(tokens) tokens in one request; the limit is \(limits.maxTokensPerRequest)", param: "input")
        }
        do {
            let embeddings = try await batcher.embed(texts, prompts: Array(repeating: prompt, count: texts.count),
                                                     dimensions: dimensions == model.dimensions ? nil : dimensions, truncate: truncate,
                                                     tokens: tokens)
            usage.add(inputs: embeddings.count, tokens: embeddings.reduce(0) { $0 + $1.tokenCount })
            return embeddings
        } catch let error as EmbeddingBatcher.BatcherError {
            switch error {
            case .queueFull:
                throw APIError(.serviceUnavailable, "the server is busy (embedding queue full); retry shortly", code: "queue_full", retryAfter: 1)
            case .shutDown:
                throw APIError(.serviceUnavailable, "the server is shutting down", retryAfter: 5)
            case .inputTooLong(let index, let tokens, let limit):
                throw APIError(.badRequest, "input \(index) has \(tokens) tokens, over the model's limit of \(limit); allow truncation (truncate: true, the default) or shorten it",
                               param: "input", code: "input_too_long")
            case .model(let model):
                throw APIError(.badRequest, model.description)
            }
        } catch {
            throw APIError(.badRequest, "request cancelled")
        }
    }
}

/// Limits of one request, each refused with a clear 400 or 413.
public struct ServerLimits: Sendable {
    /// Largest request body.
    public var maxBodyBytes: Int
    /// Most inputs in one request.
    public var maxInputsPerRequest: Int
    /// Most tokens (all inputs, prompts not counted) in one request.
    public var maxTokensPerRequest: Int

    public init(maxBodyBytes: Int = 16 << 20, maxInputsPerRequest: Int = 2048, maxTokensPerRequest: Int = 262_144) {
        self.maxBodyBytes = maxBodyBytes
        self.maxInputsPerRequest = maxInputsPerRequest
        self.maxTokensPerRequest = maxTokensPerRequest
    }
}
