import EmbeddingGemma
import EmbeddingGemmaTestSupport
import Foundation
import GemmaSearch
@testable import GemmaServer
import Hummingbird
import HummingbirdTesting
import Testing

/// `/api/search`, `/api/ask`, `/api/index` and `/api/file` on a real index of the tiny model.
@Suite("Search routes on a tiny model", .serialized)
struct SearchRouteTests {
    static let model: EmbeddingModel = {
        // Force-unwrapping is acceptable in tests: a failure here fails the suite.
        try! EmbeddingModel(path: TinyModel.write())
    }()

    static let files: [String: String] = [
        "notes/alpha.txt": "abc abc hi\nhi there abc\n",
        "notes/beta.md": "# Beta\ncabbage words\n\n## Second\nzq-77 marker\n",
        "gamma.txt": String(repeating: "a long line of text with many words in it\n", count: 12),
        "other/delta.txt": "delta hi abc\n",
    ]

    /// A folder of files and an index of it.
    static func indexed() throws -> (index: SemanticIndex, root: String) {
        let root = ScratchDirectory("search-routes").path
        for (name, text) in files {
            let path = root + "/docs/" + name
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let index = try SemanticIndex(path: root + "/index.sqlite", model: model, options: IndexOptions(chunkTokens: 24, overlapTokens: 4))
        try index.update([root + "/docs"])
        return (index, root)
    }

    static func app(_ index: SemanticIndex?, apiKey: String? = nil) -> some ApplicationProtocol {
        let source: IndexConfiguration.Source = index.map { .index($0) } ?? .unavailable(reason: "the server was started without an index")
        return GemmaServer(model: model, configuration: .init(apiKey: apiKey), index: IndexConfiguration(source: source)).application()
    }

    static func object(_ response: TestResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
    }

    @Test("/api/search gives the library's hits, in order, with every field; folder filter and files only")
    func searchMatchesLibrary() async throws {
        let (index, root) = try Self.indexed()
        try await Self.app(index).test(.router) { client in
            for (body, expected) in [
                (#"{"query": "abc hi", "k": 5}"#, try index.search("abc hi", limit: 5)),
                (#"{"query": "zq-77", "k": 3, "lexical_weight": 2}"#, try index.search("zq-77", limit: 3, lexicalWeight: 2)),
                (#"{"query": "hi", "k": 10, "path": "\#(root)/docs/notes"}"#, try index.search("hi", limit: 10, under: root + "/docs/notes")),
                (#"{"query": "hi", "k": 10, "files_only": true}"#, try index.search("hi", limit: 10, filesOnly: true)),
            ] {
                try await client.execute(uri: "/api/search", method: .post, body: ByteBuffer(string: body)) { response in
                    #expect(response.status == .ok, "\(body)")
                    let object = try Self.object(response)
                    let data = try JSONSerialization.data(withJSONObject: try #require(object["hits"]))
                    let hits = try JSONDecoder().decode([SearchHit].self, from: data)
                    #expect(!expected.isEmpty)
                    #expect(hits.map(\.path) == expected.map(\.path), "\(body)")
                    #expect(hits.map(\.line) == expected.map(\.line))
                    #expect(zip(hits, expected).allSatisfy { abs($0.score - $1.score) < 1e-6 && $0.text == $1.text && $0.title == $1.title })
                    #expect((object["took_ms"] as? Double ?? -1) >= 0)
                    #expect((object["embed_ms"] as? Double ?? -1) >= 0)
                }
            }
        }
    }

    @Test("bad search requests are 400s naming the field", arguments: [
        (#"{"query": ""}"#, "query"), (#"{"query": "   "}"#, "query"), (#"{"k": 3}"#, "query"), (#"{"query": 5}"#, "query"),
        (#"{"query": "hi", "k": 0}"#, "k"), (#"{"query": "hi", "k": 101}"#, "k"), (#"{"query": "hi", "k": "ten"}"#, "k"),
        (#"{"query": "hi", "k": 2.5}"#, "k"), (#"{"query": "hi", "files_only": "yes"}"#, "files_only"),
        (#"{"query": "hi", "top_k": 3}"#, "top_k"), (#"{"query": "hi", "path": "/no/such/place"}"#, "path"),
        (#"{"query": "hi", "path": "relative/dir"}"#, "path"), (#"{"query": "hi", "lexical_weight": -1}"#, "lexical_weight"),
        (#"{"query": "hi", "min_score": true}"#, "min_score"),
    ])
    func badSearch(body: String, field: String) async throws {
        let (index, _) = try Self.indexed()
        try await Self.app(index).test(.router) { client in
            try await client.execute(uri: "/api/search", method: .post, body: ByteBuffer(string: body)) { response in
                #expect(response.status == .badRequest, "\(body)")
                let object = try Self.object(response)
                #expect(object["param"] as? String == field, "\(body): \(object)")
                #expect((object["error"] as? String)?.isEmpty == false)
            }
        }
    }

    @Test("an over-long query and a non-object body are refused")
    func longQuery() async throws {
        let (index, _) = try Self.indexed()
        try await Self.app(index).test(.router) { client in
            let long = String(repeating: "word ", count: 1000)
            try await client.execute(uri: "/api/search", method: .post, body: ByteBuffer(string: #"{"query": "\#(long)"}"#)) { response in
                #expect(response.status == .badRequest)
                let object = try Self.object(response)
                #expect(object["param"] as? String == "query")
            }
            try await client.execute(uri: "/api/search", method: .post, body: ByteBuffer(string: "[1, 2]")) { response in
                #expect(response.status == .badRequest)
            }
        }
    }

    @Test("without an index the search routes answer 503 with the reason; embedding still works")
    func noIndex() async throws {
        try await Self.app(nil).test(.router) { client in
            for (uri, method, body) in [("/api/search", HTTPRequest.Method.post, #"{"query": "hi"}"#), ("/api/ask", .post, #"{"question": "hi"}"#),
                                        ("/api/index", .get, ""), ("/api/file?path=/etc/passwd", .get, "")] {
                try await client.execute(uri: uri, method: method, body: ByteBuffer(string: body)) { response in
                    #expect(response.status == .serviceUnavailable, "\(uri)")
                    let object = try Self.object(response)
                    #expect((object["error"] as? String)?.contains("without an index") == true)
                }
            }
            try await client.execute(uri: "/api/embed", method: .post, body: ByteBuffer(string: #"{"input": "hi"}"#)) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test("/api/index: counts, model, width and last change as the library reports them")
    func indexStatus() async throws {
        let (index, _) = try Self.indexed()
        let statistics = try index.statistics()
        try await Self.app(index).test(.router) { client in
            try await client.execute(uri: "/api/index", method: .get) { response in
                #expect(response.status == .ok)
                let object = try Self.object(response)
                #expect(object["files"] as? Int == statistics.files && statistics.files == 4)
                #expect(object["chunks"] as? Int == statistics.chunks)
                #expect(object["tokens"] as? Int == statistics.tokens)
                #expect(object["dimensions"] as? Int == Self.model.dimensions)
                #expect(object["path"] as? String == index.path)
                #expect((object["updated_at"] as? String)?.hasPrefix("20") == true)
                #expect(object["update"] is NSNull)
            }
        }
    }

    @Test("/api/file serves indexed files around a line, and nothing else (404, not a made-up path)")
    func filePreview() async throws {
        let (index, root) = try Self.indexed()
        let gamma = root + "/docs/gamma.txt"
        // A file beside the index that is not in it, and a link to it inside the indexed folder.
        try "secret\n".write(toFile: root + "/secret.txt", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: root + "/docs/link.txt", withDestinationPath: root + "/secret.txt")
        try await Self.app(index).test(.router) { client in
            try await client.execute(uri: "/api/file?path=\(gamma)&line=6&context=2", method: .get) { response in
                #expect(response.status == .ok)
                let object = try Self.object(response)
                #expect(object["start_line"] as? Int == 4 && object["end_line"] as? Int == 8 && object["line"] as? Int == 6)
                #expect((object["lines"] as? [String])?.count == 5)
                #expect((object["lines"] as? [String])?.first == "a long line of text with many words in it")
            }
            for path in [root + "/secret.txt", root + "/docs/link.txt", root + "/docs/notes/../../secret.txt", "/etc/passwd", "docs/gamma.txt"] {
                let escaped = path.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? path
                try await client.execute(uri: "/api/file?path=\(escaped)", method: .get) { response in
                    #expect(response.status == .notFound, "\(path)")
                }
            }
            // An indexed file swapped for a link elsewhere is not followed.
            let alpha = root + "/docs/notes/alpha.txt"
            try FileManager.default.removeItem(atPath: alpha)
            try FileManager.default.createSymbolicLink(atPath: alpha, withDestinationPath: root + "/secret.txt")
            try await client.execute(uri: "/api/file?path=\(alpha)", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(!String(buffer: response.body).contains("secret\\n"))
            }
            try await client.execute(uri: "/api/file?path=\(gamma)&context=5000", method: .get) { response in
                #expect(response.status == .badRequest)
            }
        }
    }

    @Test("/api/ask without a generator is a 400 naming it; with an API key the routes need it")
    func askAndKey() async throws {
        let (index, _) = try Self.indexed()
        try await Self.app(index).test(.router) { client in
            try await client.execute(uri: "/api/ask", method: .post, body: ByteBuffer(string: #"{"question": "what is abc?"}"#)) { response in
                #expect(response.status == .badRequest)
                let object = try Self.object(response)
                #expect(object["param"] as? String == "generator")
            }
            try await client.execute(uri: "/api/ask", method: .post, body: ByteBuffer(string: #"{"question": "what?", "stream": "no"}"#)) { response in
                #expect(response.status == .badRequest)
                let object = try Self.object(response)
                #expect(object["param"] as? String == "stream")
            }
        }
        try await Self.app(index, apiKey: "sesame").test(.router) { client in
            try await client.execute(uri: "/api/search", method: .post, body: ByteBuffer(string: #"{"query": "hi"}"#)) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/api/search", method: .post, headers: [.authorization: "Bearer sesame"],
                                     body: ByteBuffer(string: #"{"query": "hi"}"#)) { response in
                #expect(response.status == .ok)
            }
        }
    }
}
