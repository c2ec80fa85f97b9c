import EmbeddingGemma
import Foundation
import Hummingbird

/// Ollama's API for an embedding model: `/api/embed`, the legacy `/api/embeddings`, `/api/tags`,
/// `/api/show`, `/api/version`, `/api/ps`, and `/api/generate` / `/api/chat`, which answer 400.
struct OllamaAPI: Sendable {
    let endpoint: EmbeddingEndpoint
    /// The generator, when the server has one (else generate and chat answer 400).
    let generation: GenerationService?
    let startTime = Date()

    struct EmbedRequest: Decodable, PromptFields {
        var model: String?
        var input: EmbeddingInput?
        var truncate: Bool?
        var dimensions: Int?
        var prompt: String?
        var prompt_name: String?
        var title: String?
    }

    struct EmbedResponse: Encodable {
        var model: String
        var embeddings: [[Float]]
        var total_duration: Int
        var load_duration: Int
        var prompt_eval_count: Int
    }

    struct LegacyRequest: Decodable {
        var model: String?
        var prompt: String?
        var prompt_name: String?
        var title: String?
        var dimensions: Int?
    }

    func register(on router: Router<ServerRequestContext>) {
        // Ollama's health check; a browser asking for a page is sent to the web page instead.
        router.get("/") { request, _ in
            WebUI.wantsPage(request) ? WebUI.redirectToPage()
                : Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: "Ollama is running")))
        }
        router.head("/") { _, _ in HTTPResponse.Status.ok }
        router.post("/api/embed") { request, context in await APIError.answer(.ollama) { try await embed(request, usage: context.usage) } }
        router.post("/api/embeddings") { request, context in await APIError.answer(.ollama) { try await legacyEmbed(request, usage: context.usage) } }
        router.get("/api/tags") { _, _ in jsonResponse(["models": models()]) }
        router.get("/api/ps") { _, _ in
            jsonResponse(["models": models().map { $0.merging(["expires_at": "0001-01-01T00:00:00Z", "size_vram": 0]) { a, _ in a } }])
        }
        router.post("/api/show") { request, _ in
            let body = try? await RequestDecoding.decode(ShowRequest.self, from: request, maxBytes: 1 << 16)
            let asked = body?.model ?? body?.name
            if let generation, let asked, asked.split(separator: ":").first.map(String.init) == generation.name {
                return jsonResponse(generatorShowEntry(generation))
            }
            return jsonResponse(showEntry())
        }
        router.get("/api/version") { _, _ in jsonResponse(["version": "0.12.0"]) }
        guard generation == nil else { return }
        for path in ["/api/generate", "/api/chat"] {
            router.post(RouterPath(stringLiteral: path)) { _, _ in
                APIError(.badRequest, "\"\(endpoint.modelName)\" does not support generate: it is an embedding model; use /api/embed").response(.ollama)
            }
        }
    }

    private func embed(_ request: Request, usage: RequestUsage) async throws(APIError) -> Response {
        let start = ContinuousClock.now
        let body = try await RequestDecoding.decode(EmbedRequest.self, from: request, maxBytes: endpoint.limits.maxBodyBytes)
        guard let input = body.input else { throw APIError(.badRequest, "missing field 'input'", param: "input") }
        guard case .texts(let texts) = input else {
            throw APIError(.badRequest, "input must be a string or an array of strings (token ids cannot be mapped to Gemma's vocabulary)", param: "input")
        }
        let prompt = try body.promptSelection.resolve(endpoint.model)
        let embeddings = try await endpoint.embed(texts, prompt: prompt, dimensions: body.dimensions, truncate: body.truncate ?? true, usage: usage)
        let elapsed = start.duration(to: .now).components
        return try encode(EmbedResponse(model: body.model ?? endpoint.modelName, embeddings: embeddings.map(\.vector),
                                        total_duration: Int(elapsed.seconds) * 1_000_000_000 + Int(elapsed.attoseconds / 1_000_000_000),
                                        load_duration: 0, prompt_eval_count: embeddings.reduce(0) { $0 + $1.tokenCount }))
    }

    private func legacyEmbed(_ request: Request, usage: RequestUsage) async throws(APIError) -> Response {
        let body = try await RequestDecoding.decode(LegacyRequest.self, from: request, maxBytes: endpoint.limits.maxBodyBytes)
        guard let text = body.prompt else { throw APIError(.badRequest, "missing field 'prompt' (the text to embed)", param: "prompt") }
        let prompt = try PromptSelection(literal: nil, name: body.prompt_name, title: body.title, model: body.model).resolve(endpoint.model)
        let embeddings = try await endpoint.embed([text], prompt: prompt, dimensions: body.dimensions, truncate: true, usage: usage)
        return try encode(["embedding": embeddings[0].vector])
    }

    struct ShowRequest: Decodable {
        var model: String?
        var name: String?
    }

    /// The models listed by `/api/tags` and `/api/ps`: the embedding model, then the generator.
    private func models() -> [[String: Any]] {
        guard let generation else { return [modelEntry()] }
        return [modelEntry(), generatorEntry(generation)]
    }

    private func generatorEntry(_ generation: GenerationService) -> [String: Any] {
        let name = generation.name.contains(":") ? generation.name : generation.name + ":latest"
        return ["name": name, "model": name, "modified_at": ISO8601DateFormatter().string(from: startTime),
                "size": (try? FileManager.default.attributesOfItem(atPath: generation.generator.path)[.size] as? Int) ?? 0,
                "digest": "", "details": ["format": "gguf", "family": "gemma3", "families": ["gemma3"]]]
    }

    private func generatorShowEntry(_ generation: GenerationService) -> [String: Any] {
        ["details": generatorEntry(generation)["details"] as Any,
         "model_info": ["general.architecture": "gemma3", "general.name": generation.generator.name,
                        "gemma3.context_length": generation.generator.contextLength],
         "capabilities": ["completion"]]
    }

    private func modelEntry() -> [String: Any] {
        let quantization = endpoint.model.quantization.rawValue.uppercased()
        return ["name": endpoint.modelName + ":latest", "model": endpoint.modelName + ":latest", "modified_at": ISO8601DateFormatter().string(from: startTime),
                "size": endpoint.model.weightBytes, "digest": endpoint.model.fingerprint,
                "details": ["format": "gguf", "family": "gemma3", "families": ["gemma3"], "parameter_size": "307.58M",
                            "quantization_level": quantization]]
    }

    private func showEntry() -> [String: Any] {
        ["details": modelEntry()["details"] as Any,
         "model_info": ["general.architecture": "gemma-embedding", "gemma-embedding.embedding_length": endpoint.model.dimensions,
                        "gemma-embedding.context_length": endpoint.model.maxSequenceLength],
         "capabilities": ["embedding"]]
    }

    private func encode<T: Encodable>(_ value: T) throws(APIError) -> Response {
        do {
            let data = try JSONEncoder().encode(value)
            return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
        } catch {
            throw APIError(.internalServerError, "could not encode the response")
        }
    }
}
