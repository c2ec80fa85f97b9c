import EmbeddingGemma
import Foundation
import GemmaClassify
import Hummingbird

/// `POST /api/classify` `{"classifier": NAME, "input": string or [string]}` → labels and
/// probabilities, and `POST /api/route` `{"input": ...}` → routes. Inputs are embedded through
/// the server's batching queue, like every embedding request.
struct ClassificationAPI: Sendable {
    let endpoint: EmbeddingEndpoint
    let classification: ServerClassification

    struct ClassifyRequest: Decodable {
        var classifier: String?
        var input: EmbeddingInput?
    }

    struct RouteRequest: Decodable {
        var input: EmbeddingInput?
    }

    func register(on router: Hummingbird.Router<ServerRequestContext>) {
        router.post("/api/classify") { request, context in
            await APIError.answer(.ollama) { try await classify(request, usage: context.usage) }
        }
        router.post("/api/route") { request, context in
            await APIError.answer(.ollama) { try await route(request, usage: context.usage) }
        }
    }

    private func classify(_ request: Request, usage: RequestUsage) async throws(APIError) -> Response {
        let body = try await RequestDecoding.decode(ClassifyRequest.self, from: request, maxBytes: endpoint.limits.maxBodyBytes)
        let names = classification.classifiers.keys.sorted()
        guard let name = body.classifier else {
            throw APIError(.badRequest, "missing field 'classifier': name one of the server's classifiers (\(Self.list(names)))", param: "classifier")
        }
        guard let classifier = classification.classifiers[name] else {
            throw APIError(.badRequest, "unknown classifier '\(name)' in field 'classifier'; the server has: \(Self.list(names))", param: "classifier")
        }
        let texts = try Self.texts(body.input)
        let embeddings = try await endpoint.embed(texts, prompt: classifier.requestPrompt, dimensions: classifier.dimensions, truncate: true, usage: usage)
        var results: [[String: Any]] = []
        for embedding in embeddings {
            let prediction: Prediction
            do {
                prediction = try classifier.predict(embedding: embedding.vector)
            } catch {
                throw APIError(.internalServerError, error.description)
            }
            results.append(["label": prediction.label, "score": prediction.score, "scores": prediction.scores])
        }
        return jsonResponse(["classifier": name, "results": results])
    }

    private func route(_ request: Request, usage: RequestUsage) async throws(APIError) -> Response {
        let body = try await RequestDecoding.decode(RouteRequest.self, from: request, maxBytes: endpoint.limits.maxBodyBytes)
        guard let router = classification.router else {
            throw APIError(.badRequest, "this server has no routes configured")
        }
        let texts = try Self.texts(body.input)
        let embeddings = try await endpoint.embed(texts, prompt: .literal(router.promptText), dimensions: router.dimensions, truncate: true, usage: usage)
        var results: [[String: Any]] = []
        for embedding in embeddings {
            let match: RouteMatch
            do {
                match = try router.match(embedding: embedding.vector)
            } catch {
                throw APIError(.internalServerError, error.description)
            }
            results.append(["route": match.route as Any? ?? NSNull(), "score": match.score, "nearest": match.nearest,
                            "alternatives": match.alternatives.map { ["route": $0.route, "score": $0.score] as [String: Any] }])
        }
        return jsonResponse(["threshold": router.threshold, "results": results])
    }

    /// The texts of `input`, or a 400 naming the field.
    static func texts(_ input: EmbeddingInput?) throws(APIError) -> [String] {
        guard let input else { throw APIError(.badRequest, "missing field 'input': send a string or an array of strings", param: "input") }
        guard case .texts(let texts) = input else {
            throw APIError(.badRequest, "field 'input' holds token ids: send a string or an array of strings", param: "input")
        }
        guard !texts.isEmpty else { throw APIError(.badRequest, "field 'input' is empty: send a string or a non-empty array of strings", param: "input") }
        for (index, text) in texts.enumerated() where text.allSatisfy(\.isWhitespace) {
            throw APIError(.badRequest, "field 'input' item \(index) is empty", param: "input")
        }
        return texts
    }

    static func list(_ names: [String]) -> String {
        names.isEmpty ? "none configured" : names.joined(separator: ", ")
    }
}
