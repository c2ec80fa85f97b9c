import EmbeddingGemma
import EmbeddingGemmaTestSupport
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `/api/search` on `gemma-embed serve --index` against `gemma-embed search --json` on the same
/// index of ../shared/search-eval (the real model): the same hits, in the same order, field by field.
@Suite("serve --index answers as search --json does", .serialized, .enabled(if: RealModel.available, "model missing"))
struct SearchServerCLITests {
    static let evalDirectory = URL(fileURLWithPath: RealModel.golden).deletingLastPathComponent().appendingPathComponent("search-eval").path

    /// The search-eval index, kept under .build between runs (an update re-embeds only what changed;
    /// scripts/test-browser.sh searches the same file).
    static let indexPath: String = {
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return packageRoot.appendingPathComponent(".build/test-indexes/search-eval.sqlite").path
    }()

    @Test("20 multilingual and 10 identifier queries: identical hits through HTTP and the command line")
    func identicalHits() async throws {
        let index = try CLI.run(["index", "--index", Self.indexPath, Self.evalDirectory + "/docs"])
        #expect(index.status == 0, "\(index.stderr)")
        var queries: [(id: String, text: String)] = []
        for file in ["queries.jsonl", "identifier_queries.jsonl"] {
            let text = try String(contentsOfFile: Self.evalDirectory + "/" + file, encoding: .utf8)
            let lines = text.split(separator: "\n").prefix(file == "queries.jsonl" ? 20 : 10)
            for line in lines {
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                queries.append((try #require(object["id"] as? String), try #require(object["query"] as? String)))
            }
        }
        let scratch = ScratchDirectory("search-server").path
        let queryFile = scratch + "/queries.jsonl"
        let lines = try queries.map { String(decoding: try JSONSerialization.data(withJSONObject: ["id": $0.id, "query": $0.text]), as: UTF8.self) }
        try lines.joined(separator: "\n").write(toFile: queryFile, atomically: true, encoding: .utf8)
        // Run from a folder that holds no document, so paths print absolute.
        let cli = try CLI.run(["search", "--index", Self.indexPath, "--queries", queryFile, "--json", "-k", "10"], directory: scratch)
        #expect(cli.status == 0, "\(cli.stderr)")
        var expected: [String: [[String: Any]]] = [:]
        for line in cli.stdout.split(separator: "\n") {
            var object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let id = try #require(object.removeValue(forKey: "query_id") as? String)
            expected[id, default: []].append(object)
        }
        #expect(expected.count == queries.count)

        let port = try #require(LoopbackPort.unused())
        let server = Process()
        server.executableURL = CLI.executable
        server.arguments = ["serve", "--host", "127.0.0.1", "--port", String(port), "--index", Self.indexPath]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        var waited = 0
        while !LoopbackPort.accepts(port), waited < 600 {
            usleep(100_000)
            waited += 1
        }
        for query in queries {
            let body = try JSONSerialization.data(withJSONObject: ["query": query.text, "k": 10])
            let answer = try await Self.post("http://127.0.0.1:\(port)/api/search", body: body)
            let hits = try #require(answer["hits"] as? [[String: Any]])
            let want = expected[query.id] ?? []
            #expect(hits.count == want.count, "\(query.id)")
            for (got, wanted) in zip(hits, want) {
                #expect(NSDictionary(dictionary: got).isEqual(to: wanted), "\(query.id): \(got) vs \(wanted)")
            }
        }
    }

    /// POSTs `body` and returns the JSON object answered (waiting up to a minute).
    static func post(_ url: String, body: Data) async throws -> [String: Any] {
        var request = URLRequest(url: try #require(URL(string: url)), timeoutInterval: 60)
        request.httpMethod = "POST"
        request.httpBody = body
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        let (data, _) = try await URLSession.shared.data(for: request)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }
}
