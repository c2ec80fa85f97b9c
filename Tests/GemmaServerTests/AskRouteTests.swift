import EmbeddingGemma
import EmbeddingGemmaTestSupport
import Foundation
import GemmaAnswering
import GemmaSearch
@testable import GemmaServer
import Hummingbird
import HummingbirdTesting
import Testing

/// `/api/ask` on the real Gemma 3 generator over an index of the tiny embedding model: the
/// streamed lines and the one-object answer are the library's greedy answer to the same passages.
@Suite("Ask route on the real generator", .serialized, .enabled(if: GeneratorFile.available))
struct AskRouteTests {
    static let generator: TextGenerator = {
        // Force-unwrapping is acceptable in tests: a failure here fails the suite.
        try! TextGenerator(path: GeneratorFile.path, contextLength: 1024)
    }()

    @Test("stream: sources first, then pieces, then done with the whole answer; without stream one object; both the library's answer")
    func askStreams() async throws {
        let (index, _) = try SearchRouteTests.indexed()
        let question = "What does the beta note mark?"
        let options = GenerationOptions(maxTokens: 24, temperature: 0)
        let hits = try index.search(question, limit: 2)
        let expected = try await GroundedAnswerer(index: index, generator: LocalGenerator(Self.generator)).answer(question, from: hits, options: options)
        let server = GemmaServer(model: SearchRouteTests.model, generator: Self.generator, index: IndexConfiguration(source: .index(index)))
        try await server.application().test(.router) { client in
            let body = #"{"question": "\#(question)", "k": 2, "max_tokens": 24}"#
            try await client.execute(uri: "/api/ask", method: .post, body: ByteBuffer(string: body)) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/x-ndjson")
                let lines = String(buffer: response.body).split(separator: "\n").map { line in
                    (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
                }
                let sources = try #require(lines.first?["sources"] as? [[String: Any]])
                #expect(sources.map { $0["path"] as? String } == expected.sources.map(\.path))
                #expect(sources.map { $0["n"] as? Int } == Array(1...expected.sources.count))
                let pieces = lines.dropFirst().compactMap { $0["answer"] as? String }.dropLast()
                #expect(pieces.count > 1, "the answer streams in pieces")
                let done = try #require(lines.last)
                #expect(done["done"] as? Bool == true)
                #expect(done["answer"] as? String == expected.text)
                #expect(pieces.joined().trimmingCharacters(in: .whitespacesAndNewlines) == expected.text)
                #expect(done["generated_tokens"] as? Int == expected.generation.generatedTokens)
            }
            let whole = #"{"question": "\#(question)", "k": 2, "max_tokens": 24, "stream": false}"#
            try await client.execute(uri: "/api/ask", method: .post, body: ByteBuffer(string: whole)) { response in
                #expect(response.status == .ok)
                let object = try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
                #expect(object["answer"] as? String == expected.text)
                #expect((object["sources"] as? [[String: Any]])?.count == expected.sources.count)
            }
        }
    }
}
