import EmbeddingGemma
import Foundation
import Hummingbird

/// OpenAI's embeddings API: `POST /v1/embeddings` (float or base64 output, `dimensions`,
/// `usage`) and `GET /v1/models`.
struct OpenAIAPI: Sendable {
    let endpoint: EmbeddingEndpoint
    /// The generator, when the server has one (listed by `/v1/models`).
    let generation: GenerationService?

    struct EmbeddingsRequest: Decodable, PromptFields {
        var model: String?
        var input: EmbeddingInput?
        var encoding_format: String?
        var dimensions: Int?
        var user: String?
        var prompt: String?
        var prompt_name: String?
        var title: String?
    }

    func register(on router: Router<ServerRequestContext>) {
        router.post("/v1/embeddings") { request, context in
            await APIError.answer(.openAI) { try await embeddings(request, usage: context.usage) }
        }
        router.get("/v1/models") { _, _ in
            let names = [endpoint.modelName] + (generation.map { [$0.name] } ?? [])
            return jsonResponse(["object": "list", "data": names.map { ["id": $0, "object": "model", "created": 0, "owned_by": "google"] }])
        }
        if generation == nil {
            router.post("/v1/chat/completions") { _, _ in
                APIError(.badRequest, "\"\(endpoint.modelName)\" cannot chat: it is an embedding model, and this server has no generator configured",
                         param: "model", code: "model_not_supported").response(.openAI)
            }
        }
    }

    private func embeddings(_ request: Request, usage: RequestUsage) async throws(APIError) -> Response {
        let body = try await RequestDecoding.decode(EmbeddingsRequest.self, from: request, maxBytes: endpoint.limits.maxBodyBytes)
        guard let input = body.input else { throw APIError(.badRequest, "missing field 'input'", param: "input") }
        guard case .texts(let texts) = input else {
            throw APIError(.badRequest, "input holds token ids, which cannot be mapped to Gemma's vocabulary: send strings (LangChain: OpenAIEmbeddings(check_embedding_ctx_length=False))",
                           param: "input", code: "token_ids_unsupported")
        }
        let format = body.encoding_format ?? "float"
        guard format == "float" || format == "base64" else {
            throw APIError(.badRequest, "encoding_format must be 'float' or 'base64'", param: "encoding_format")
        }
        let prompt = try body.promptSelection.resolve(endpoint.model)
        let embeddings = try await endpoint.embed(texts, prompt: prompt, dimensions: body.dimensions, truncate: true, usage: usage)
        let data: [[String: Any]] = embeddings.enumerated().map { index, embedding in
            ["object": "embedding", "index": index, "embedding": format == "base64" ? Self.base64(embedding.vector) : embedding.vector as Any]
        }
        let tokens = embeddings.reduce(0) { $0 + $1.tokenCount }
        return jsonResponse(["object": "list", "data": data, "model": body.model ?? endpoint.modelName,
                     "usage": ["prompt_tokens": tokens, "total_tokens": tokens]])
    }

    /// Little-endian float32 bytes in base64, as OpenAI's `encoding_format: base64`.
    static func base64(_ vector: [Float]) -> String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(vector.count * 4)
        for value in vector { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        return Data(bytes).base64EncodedString()
    }

}
