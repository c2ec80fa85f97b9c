import EmbeddingGemma
import EmbeddingGemmaTestSupport
import Foundation
import Testing
@testable import GemmaSearch

/// The PostgreSQL store when things go wrong: the database stopped and started again in the
/// middle of indexing (also while every shared thread of the process is busy), two indexers
/// writing the same folder at once. The final state is compared with a clean run's by row count
/// and a hash of every row's content.
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
        guard let shared = try PostgresIndexTests.server() else { return }
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
        let outage = LockedValue<(stopped: Bool, searchError: SearchError?, seconds: Double, back: Double?)>((false, nil, 0, nil))
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
                    outage.value = (true, failure, seconds, nil)
                    Thread.sleep(forTimeInterval: 1.5)
                    // A loaded machine may start the server slowly: try again before giving up.
                    var attempts = 0
                    while true {
                        do { try own.restart(); break } catch where attempts < 2 { attempts += 1 }
                    }
                    // The searcher is back as soon as the server is (seconds, not a pool's back-off).
                    outage.value.back = Self.secondsUntilAnswered(searcher)
                } catch {
                    outage.value = (false, .storage("\(error)"), 0, nil)
                }
                restarted.signal()
            }
        })
        restarted.wait()
        #expect(outage.value.stopped, "the server was stopped and started again: \(String(describing: outage.value.searchError))")
        let searchError = try #require(outage.value.searchError)
        guard case .storeUnavailable = searchError else { Issue.record("search during the outage: \(searchError)"); return }
        #expect(outage.value.seconds < 4, "a search waits about wait= seconds (1) for the database")
        let back = try #require(outage.value.back)
        print("postgres restart mid-index: a search failed in \(String(format: "%.2f", outage.value.seconds)) s, answered again \(String(format: "%.2f", back)) s after the restart")
        #expect(back < 15, "searches answer within seconds of the server being back")
        #expect(!summary.interrupted)
        #expect(summary.filesAdded == 240)
        #expect(try Self.fingerprint(own, database: Self.databaseName(url)) == clean)
        // Searches work again once it is back.
        #expect(try searcher.search("w17x", limit: 1).first?.path.hasSuffix("/file17.txt") == true)
        // And an update afterwards finds nothing left to do.
        #expect(try index.update([root], options: Self.options).filesUnchanged == 240)
    }

    /// Searches `searcher` until one answers (for at most a minute); returns the seconds it took.
    static func secondsUntilAnswered(_ searcher: SemanticIndex, query: String = "entry") -> Double {
        let started = ContinuousClock.now
        while started.duration(to: .now) < .seconds(60) {
            do throws(SearchError) {
                if try !searcher.search(query, limit: 1).isEmpty { break }
            } catch {}
            Thread.sleep(forTimeInterval: 0.01)
        }
        return started.duration(to: .now) / .seconds(1)
    }

    @Test("the database restarted while every shared thread of the process is busy: searches and writes are back within seconds")
    func restartUnderLoad() throws {
        guard try PostgresIndexTests.server() != nil, PostgresTestServer.installed else { return }
        let root = try Self.corpus(20)
        let own = try PostgresTestServer.start(in: ScratchDirectory("pg").path)
        defer { try? own.stop() }
        let url = try own.makeDatabase()
        let index = try SemanticIndex(path: url, model: Self.model, options: Self.options)
        try index.update([root], options: Self.options)
        let searcher = try SemanticIndex.open(path: url + "?wait=1", model: Self.model)
        #expect(try searcher.search("w3x", limit: 1).first?.path.hasSuffix("/file3.txt") == true)

        // Task.sleep and postgres-nio's back-off wake on the global queue; the store must not need it.
        let busy = BusyGlobalQueue()
        defer { busy.stop() }
        try own.stop()
        do throws(SearchError) {
            _ = try searcher.search("w3x", limit: 1)
            Issue.record("a search answered while the database was stopped")
        } catch {
            guard case .storeUnavailable = error else { Issue.record("search during the outage: \(error)"); return }
        }
        try own.restart()
        let back = Self.secondsUntilAnswered(searcher, query: "w3x")
        try "entry 3 w3x changed\n".write(toFile: root + "/part0/file3.txt", atomically: true, encoding: .utf8)
        let written = ContinuousClock.now
        let summary = try index.update([root], options: Self.options)
        let writeSeconds = written.duration(to: .now) / .seconds(1)
        busy.stop()
        print("postgres restart with \(busy.jobs) jobs busy on the global queue: searches back after \(String(format: "%.2f", back)) s, an update written in \(String(format: "%.2f", writeSeconds)) s")
        #expect(back < 15, "searches answer within seconds of the server being back, \(busy.jobs) jobs busy on the global queue")
        #expect(writeSeconds < 15, "an update writes within seconds of the server being back")
        #expect(summary.filesChanged == 1)
        #expect(try searcher.search("changed", limit: 1).first?.path.hasSuffix("/file3.txt") == true)
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
