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
        do {
            _ = try model.validate(dimensions: dimensions)
        } catch {
            throw APIError(.badRequest, "dimensions \(dimensions ?? 0) is not supported; choose one of \(Self.widths(error))", param: "dimensions")
        }
        // Tokenized once here: the count is checked against the limit and weighs in scheduling,
        // and the model embeds these very ids.
        var tokenized: [TokenizedText] = []
        tokenized.reserveCapacity(texts.count)
        for text in texts {
            do {
                tokenized.append(try model.tokenized(text, prompt: prompt))
            } catch {
                throw APIError(.badRequest, error.description)
            }
        }
        let tokens = tokenized.reduce(0) { $0 + $1.originalCount }
        guard tokens <= limits.maxTokensPerRequest else {
            throw APIError(.contentTooLarge, "\(tokens) tokens in one request; the limit is \(limits.maxTokensPerRequest)", param: "input")
        }
        let requests = tokenized.map { EmbeddingRequest(tokens: $0, dimensions: dimensions, truncation: truncate ? .truncate : .error) }
        do {
            let embeddings = try await batcher.embed(requests)
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

extension EmbeddingEndpoint {
    /// The widths an ``EmbeddingGemmaError/unsupportedDimensions(_:supported:)`` lists.
    static func widths(_ error: EmbeddingGemmaError) -> String {
        guard case .unsupportedDimensions(_, let supported) = error else { return error.description }
        return supported.map(String.init).joined(separator: ", ")
    }
}

/// Limits of one request, each refused with a clear 400 or 413.
public struct ServerLimits: Sendable {
    /// Largest request body.
    public var maxBodyBytes: Int
    /// Most inputs in one request.
    public var maxInputsPerRequest: Int
    /// Most tokens (all inputs, with their prompt and special tokens, before truncation) in one request.
    public var maxTokensPerRequest: Int

    public init(maxBodyBytes: Int = 16 << 20, maxInputsPerRequest: Int = 2048, maxTokensPerRequest: Int = 262_144) {
        self.maxBodyBytes = maxBodyBytes
        self.maxInputsPerRequest = maxInputsPerRequest
        self.maxTokensPerRequest = maxTokensPerRequest
    }
}
