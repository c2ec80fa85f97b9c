import EmbeddingGemma
import EmbeddingGemmaTestSupport
import Foundation
import GemmaSearch
import Testing

/// ../shared/search-eval (override with `SEARCH_EVAL_DIR`) and the real model.
enum SearchEval {
    static let directory: String = {
        if let dir = ProcessInfo.processInfo.environment["SEARCH_EVAL_DIR"] { return dir }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/search-eval").path
    }()

    static var available: Bool {
        ProcessInfo.processInfo.environment["EMBEDDINGGEMMA_REQUIRE_MODEL"] == "1"
            || ((try? ModelLocation.resolve(nil)) != nil && FileManager.default.fileExists(atPath: directory + "/reference.json"))
    }

    struct Query {
        var id: String
        var lang: String
        var text: String
        var relevant: String
    }

    static func queries(_ name: String) throws -> [Query] {
        let text = try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return Query(id: try #require(object["id"] as? String), lang: object["lang"] as? String ?? "id",
                         text: try #require(object["query"] as? String), relevant: try #require(object["relevant"] as? String))
        }
    }

    /// nDCG@10 with one relevant document.
    static func ndcg(_ ranked: [String], _ relevant: String) -> Double {
        guard let rank = ranked.prefix(10).firstIndex(of: relevant) else { return 0 }
        return 1 / log2(Double(rank) + 2)
    }
}

/// Document embeddings made once and handed again to a second index (the same vectors through
/// another store).
final class RecordingEmbedder: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [EmbeddingRequest: Embedding] = [:]
    let model: EmbeddingModel

    init(model: EmbeddingModel) { self.model = model }

    var embedder: DocumentEmbedder {
        { requests in
            self.lock.lock()
            let known = requests.map { self.stored[$0] }
            self.lock.unlock()
            let missing = requests.indices.filter { known[$0] == nil }
            let made = self.model.embed(missing.map { requests[$0] })
            var results = known.map { $0.map { Result<Embedding, EmbeddingGemmaError>.success($0) } }
            self.lock.lock()
            for (position, index) in missing.enumerated() {
                results[index] = made[position]
                if case .success(let embedding) = made[position] { self.stored[requests[index]] = embedding }
            }
            self.lock.unlock()
            return results.map { $0 ?? .failure(.unsupportedConfiguration("not embedded")) }
        }
    }
}

@Suite("Retrieval on search-eval with the real model", .serialized, .enabled(if: SearchEval.available, "model or ../shared/search-eval missing"))
struct RetrievalEvaluationTests {
    @Test("index + search reproduce the exact-float reference: multilingual nDCG@10 within 0.005, identifiers at least BM25 − 0.02; the PostgreSQL store too")
    func evaluation() throws {
        let model = try EmbeddingModel()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("search-eval-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let recording = RecordingEmbedder(model: model)
        let index = try SemanticIndex(path: folder + "/eval.sqlite", model: model)
        try Self.check(index, store: "SQLite", embedder: recording.embedder)
        // The same documents and vectors through the PostgreSQL store (scripts/test.sh runs a server).
        if let server = PostgresTestServer.shared {
            let postgres = try SemanticIndex(path: try server.makeDatabase("gemma_eval"), model: model)
            try Self.check(postgres, store: "PostgreSQL", embedder: recording.embedder)
        } else if PostgresTestServer.required {
            Issue.record("EMBEDDINGGEMMA_REQUIRE_POSTGRES=1 but no PostgreSQL server was started")
        }
    }

    static func check(_ index: SemanticIndex, store: String, embedder: @escaping DocumentEmbedder) throws {
        let summary = try index.update([SearchEval.directory + "/docs"], embedder: embedder)
        #expect(summary.filesAdded == 1000)
        #expect(summary.skipped.isEmpty)
        let reference = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: SearchEval.directory + "/reference.json"))) as? [String: Any])
        let metrics = try #require(((reference["metrics"] as? [String: Any])?["768"] as? [String: Any])?["all"] as? [String: Any])
        let referenceNDCG = try #require(metrics["ndcg@10"] as? Double)
        let identifierMetrics = try #require(reference["identifier_metrics"] as? [String: Any])
        let bm25 = try #require((identifierMetrics["bm25"] as? [String: Any])?["ndcg@10"] as? Double)
        let top10 = try #require(reference["top10"] as? [String: [String]])

        let queries = try SearchEval.queries("queries.jsonl")
        var hybrid = 0.0, dense = 0.0, identical = 0
        for query in queries {
            let ranked = try index.search(query.text, limit: 10).map { ($0.path as NSString).lastPathComponent }
            hybrid += SearchEval.ndcg(ranked, query.relevant)
            if ranked == top10[query.id] { identical += 1 }
            let denseRanked = try index.search(query.text, limit: 10, lexicalWeight: 0).map { ($0.path as NSString).lastPathComponent }
            dense += SearchEval.ndcg(denseRanked, query.relevant)
        }
        hybrid /= Double(queries.count)
        dense /= Double(queries.count)
        print("search-eval (\(store)) multilingual nDCG@10: reference \(referenceNDCG), dense \(dense), hybrid \(hybrid); top 10 identical to the reference for \(identical) of \(queries.count)")
        #expect(abs(hybrid - referenceNDCG) <= 0.005)
        #expect(abs(dense - referenceNDCG) <= 0.005)
        #expect(identical >= queries.count * 95 / 100, "the final order follows exact float32 cosine")

        let identifiers = try SearchEval.queries("identifier_queries.jsonl")
        var identifierNDCG = 0.0
        for query in identifiers {
            let ranked = try index.search(query.text, limit: 10).map { ($0.path as NSString).lastPathComponent }
            identifierNDCG += SearchEval.ndcg(ranked, query.relevant)
        }
        identifierNDCG /= Double(identifiers.count)
        print("search-eval (\(store)) identifier nDCG@10: BM25 \(bm25), hybrid \(identifierNDCG)")
        #expect(identifierNDCG >= bm25 - 0.02)
    }
}
