import EmbeddingGemma
import EmbeddingGemmaTestSupport
import Foundation
import GemmaClassify
@testable import GemmaServer
import Hummingbird
import HummingbirdTesting
import Testing

/// `/api/classify` and `/api/route` on the tiny model: results equal to the library's, and 400s naming the field.
@Suite("Classification routes on a tiny model")
struct ClassificationRouteTests {
    static let examples = [
        LabelledExample(text: "abc abc", label: "letters", line: 1), LabelledExample(text: "ab ab ab", label: "letters", line: 2),
        LabelledExample(text: "hi hi", label: "greeting", line: 3), LabelledExample(text: "hi there", label: "greeting", line: 4),
    ]

    static let classification: ServerClassification = {
        let model = ServerRouteTests.model
        // Force-unwrapping is acceptable in tests: a failure here fails the suite.
        let classifier = try! Classifier.train(examples: examples, model: model, options: ClassifierOptions(prompt: .named("query")))
        let routes = try! RouteSet(routes: [RouteDefinition(name: "letters", examples: ["abc abc", "ab ab ab"]),
                                            RouteDefinition(name: "greeting", examples: ["hi hi", "hi there"])], threshold: -1)
        let router = try! Router(routes: routes, model: model, options: RouterOptions(prompt: .named("query"), cacheDirectory: nil))
        return ServerClassification(classifiers: ["topic": classifier], router: router)
    }()

    static func app(_ classification: ServerClassification = classification) -> some ApplicationProtocol {
        var configuration = GemmaServer.Configuration()
        configuration.classification = classification
        return GemmaServer(model: ServerRouteTests.model, configuration: configuration).application()
    }

    static func post(_ client: some TestClientProtocol, _ uri: String, _ body: String) async throws -> (HTTPResponse.Status, [String: Any]) {
        try await client.execute(uri: uri, method: .post, body: ByteBuffer(string: body)) { response in
            (response.status, try ServerRouteTests.object(response))
        }
    }

    @Test("/api/classify: a string or an array, labels and probabilities equal to the library's")
    func classify() async throws {
        let classifier = try #require(Self.classification.classifiers["topic"])
        let expected = try classifier.predict(["hi there", "abc"])
        try await Self.app().test(.router) { client in
            let (status, body) = try await Self.post(client, "/api/classify", #"{"classifier": "topic", "input": ["hi there", "abc"]}"#)
            #expect(status == .ok)
            #expect(body["classifier"] as? String == "topic")
            let results = try #require(body["results"] as? [[String: Any]])
            #expect(results.map { $0["label"] as? String } == expected.map(\.label))
            for (result, prediction) in zip(results, expected) {
                #expect(abs((result["score"] as? Double ?? 0) - prediction.score) < 1e-5)
                let scores = try #require(result["scores"] as? [String: Double])
                #expect(Set(scores.keys) == ["letters", "greeting"])
            }
            let (single, one) = try await Self.post(client, "/api/classify", #"{"classifier": "topic", "input": "hi there"}"#)
            #expect(single == .ok && (one["results"] as? [Any])?.count == 1)
        }
    }

    @Test("/api/classify: unknown or missing classifier, wrong or empty input are 400s naming the field")
    func classifyErrors() async throws {
        try await Self.app().test(.router) { client in
            for (body, field) in [(#"{"classifier": "nope", "input": "x"}"#, "unknown classifier 'nope' in field 'classifier'"),
                                  (#"{"input": "x"}"#, "missing field 'classifier'"),
                                  (#"{"classifier": "topic"}"#, "missing field 'input'"),
                                  (#"{"classifier": "topic", "input": []}"#, "field 'input' is empty"),
                                  (#"{"classifier": "topic", "input": ["a", ""]}"#, "field 'input' item 1 is empty"),
                                  (#"{"classifier": "topic", "input": 3}"#, "'input'"),
                                  (#"{"classifier": 3, "input": "x"}"#, "'classifier'")] {
                let (status, object) = try await Self.post(client, "/api/classify", body)
                #expect(status == .badRequest, "\(body)")
                let message = object["error"] as? String ?? ""
                #expect(message.contains(field), "\(body): \(message)")
            }
        }
    }

    @Test("/api/route: the route of each input, null when none; 400 without routes")
    func route() async throws {
        try await Self.app().test(.router) { client in
            let (status, body) = try await Self.post(client, "/api/route", #"{"input": ["hi there", "abc abc"]}"#)
            #expect(status == .ok)
            let results = try #require(body["results"] as? [[String: Any]])
            #expect(results.map { $0["route"] as? String } == ["greeting", "letters"])
            #expect(body["threshold"] as? Double == -1)
            let (empty, message) = try await Self.post(client, "/api/route", #"{"input": []}"#)
            #expect(empty == .badRequest && (message["error"] as? String ?? "").contains("'input'"))
        }
        try await Self.app(ServerClassification()).test(.router) { client in
            let (status, object) = try await Self.post(client, "/api/route", #"{"input": "hi"}"#)
            #expect(status == .badRequest && (object["error"] as? String ?? "").contains("no routes configured"))
            let (classify, message) = try await Self.post(client, "/api/classify", #"{"classifier": "topic", "input": "hi"}"#)
            #expect(classify == .badRequest && (message["error"] as? String ?? "").contains("none configured"))
        }
    }
}
