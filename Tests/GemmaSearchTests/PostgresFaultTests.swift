import EmbeddingGemma
import EmbeddingGemmaTestSupport
import Foundation
import Testing
@testable import GemmaSearch

/// The PostgreSQL store when things go wrong: the database stopped and started again in the
/// middle of indexing, two indexers writing the same folder at once. The final state is
/// compared with a clean run's by row count and a hash of every row's content.
@Suite("PostgreSQL index under faults", .serialized)
struct PostgresFaultTests {
    static let model = SemanticIndexTests.model
    static let options = SemanticIndexTests.options

    /// A folder of `count` small files, each its own chunk.
    static func corpus(_ count: Int) throws -> String {
        var files: [String: String] = [:]
        for n in 0..<count { files["part\(n / 50)/file\(n).txt"] = "entry \(n) w\(n)x\n" }
        return try SemanticIndexTests.corpus(files)
    }

    /// Rows and a hash of every chunk's path, place, text and vector, in a fixed order.
    static func fingerprint(_ server: PostgresTestServer, database: String) throws -> String {
        try server.sql("""
            SELECT count(*) || ' ' || coalesce(md5(string_agg(path || ':' || ordinal || ':' || start_line || ':' || end_line || ':' || body || ':' || embedding::text,
                '|' ORDER BY path, ordinal)), '') FROM gemma_chunks
            """, database: database)
    }

    static func databaseName(_ url: String) -> String {
        String(url.split(separator: "/").last ?? "")
    }

    @Test("the database stopped and restarted mid-index: the indexer waits, resumes, and ends as a clean run does")
    func restartMidIndex() throws {
        guard PostgresTestServer.outagesEnabled, let shared = try PostgresIndexTests.server() else { return }
        guard PostgresTestServer.installed else { return }
        let root = try Self.corpus(240)
        // The reference: a clean run on the shared server.
        let cleanURL = try shared.makeDatabase()
        try SemanticIndex(path: cleanURL, model: Self.model, options: Self.options).update([root], options: Self.options)
        let clean = try Self.fingerprint(shared, database: Self.databaseName(cleanURL))
        #expect(clean.hasPrefix("240 "))

        // A server of its own, stopped and started again while the update runs.
        let own = try PostgresTestServer.start(in: ScratchDirectory("pg").path)
        defer { try? own.stop() }
        let url = try own.makeDatabase()
        let index = try SemanticIndex(path: url, model: Self.model, options: Self.options)
        let searcher = try SemanticIndex.open(path: url + "?wait=1", model: Self.model)
        let outage = LockedValue<(stopped: Bool, searchError: SearchError?, seconds: Double)>((false, nil, 0))
        let restarted = DispatchSemaphore(value: 0)
        var batches = 0
        let summary = try index.update([root], options: Self.options, progress: { _ in
            batches += 1
            guard batches == 3 else { return }
            // After a few batches are written: stop the server; a search fails fast; start it again.
            Thread.detachNewThread {
                do {
                    try own.stop()
                    let started = ContinuousClock.now
                    var failure: SearchError?
                    do throws(SearchError) { _ = try searcher.search("entry", limit: 3) } catch { failure = error }
                    let seconds = started.duration(to: .now) / .seconds(1)
                    outage.value = (true, failure, seconds)
                    Thread.sleep(forTimeInterval: 1.5)
                    // A loaded machine may start the server slowly: try again before giving up.
                    var attempts = 0
                    while true {
                        do { try own.restart(); break } catch where attempts < 2 { attempts += 1 }
                    }
                } catch {
                    outage.value = (false, .storage("\(error)"), 0)
                }
                restarted.signal()
            }
        })
        restarted.wait()
        #expect(outage.value.stopped, "the server was stopped and started again: \(String(describing: outage.value.searchError))")
        let searchError = try #require(outage.value.searchError)
        guard case .storeUnavailable = searchError else { Issue.record("search during the outage: \(searchError)"); return }
        #expect(outage.value.seconds < 4, "a search waits about wait= seconds (1) for the database")
        #expect(!summary.interrupted)
        #expect(summary.filesAdded == 240)
        #expect(try Self.fingerprint(own, database: Self.databaseName(url)) == clean)
        // Searches work again once it is back.
        #expect(try searcher.search("w17x", limit: 1).first?.path.hasSuffix("/file17.txt") == true)
        // And an update afterwards finds nothing left to do.
        #expect(try index.update([root], options: Self.options).filesUnchanged == 240)
    }

    @Test("two indexers on the same folder at once end as one does: no chunk doubled or lost")
    func concurrentIndexers() throws {
        guard let server = try PostgresIndexTests.server() else { return }
        let root = try Self.corpus(200)
        let cleanURL = try server.makeDatabase()
        try SemanticIndex(path: cleanURL, model: Self.model, options: Self.options).update([root], options: Self.options)
        let clean = try Self.fingerprint(server, database: Self.databaseName(cleanURL))

        let url = try server.makeDatabase()
        let results = LockedValue<[Result<UpdateSummary, SearchError>]>([])
        let group = DispatchGroup()
        for _ in 0..<2 {
            group.enter()
            Thread.detachNewThread {
                // Each opens the new database itself, as two processes would.
                let result = Result { () throws(SearchError) -> UpdateSummary in
                    try SemanticIndex(path: url, model: Self.model, options: Self.options).update([root], options: Self.options)
                }
                results.update { $0.append(result) }
                group.leave()
            }
        }
        group.wait()
        for result in results.value {
            if case .failure(let error) = result { Issue.record("an indexer failed: \(error)") }
        }
        #expect(try Self.fingerprint(server, database: Self.databaseName(url)) == clean)
        #expect(try server.sql("SELECT count(*) FROM gemma_files", database: Self.databaseName(url)) == "200")
    }
}
