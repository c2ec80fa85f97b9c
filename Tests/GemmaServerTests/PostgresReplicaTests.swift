import EmbeddingGemma
import EmbeddingGemmaTestSupport
import Foundation
import GemmaSearch
@testable import GemmaServer
import Hummingbird
import HummingbirdTesting
import Testing

/// Two servers ("replicas") on one PostgreSQL index: the same answers, a write by an indexer
/// seen by both at once, and a database that goes away: 503 with the reason, then answers again
/// when it is back, without restarting the servers.
///
/// Its time limits are the servers', so `scripts/test.sh` runs it in a process of its own: inside the
/// whole suite, the other tests' synchronous model work holds Swift's cooperative threads, which
/// the in-process test client and these async steps need, for minutes at a time.
@Suite("Search routes on a PostgreSQL index", .serialized)
struct PostgresReplicaTests {
    static func search(_ client: some TestClientProtocol, _ body: String) async throws -> (status: HTTPResponse.Status, object: [String: Any]) {
        try await client.execute(uri: "/api/search", method: .post, body: ByteBuffer(string: body)) { response in
            let object = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any] ?? [:]
            return (response.status, object)
        }
    }

    /// Concurrent searches sent while the database is down.
    static let crowd = 32

    /// An error response's message.
    static func message(_ object: [String: Any]) -> String {
        ((object["error"] as? [String: Any])?["message"] as? String) ?? (object["error"] as? String) ?? ""
    }

    static func paths(_ object: [String: Any]) -> [String] {
        (object["hits"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String }
    }

    @Test("two replicas answer alike, see an indexer's writes at once, and say 503 while the database is down")
    func replicas() async throws {
        guard PostgresTestServer.shared != nil || PostgresTestServer.required else { return }
        let server = try PostgresTestServer.start(in: ScratchDirectory("pg").path)
        defer { try? server.stop() }
        let url = try server.makeDatabase()
        let (_, root) = try SearchRouteTests.indexed()
        let options = IndexOptions(chunkTokens: 24, overlapTokens: 4)
        let indexer = try SemanticIndex(path: url, model: SearchRouteTests.model, options: options)
        try indexer.update([root + "/docs"])
        let expected = try indexer.search("abc hi", limit: 5).map(\.path)
        #expect(!expected.isEmpty)

        let first = GemmaServer(model: SearchRouteTests.model, configuration: .init(),
                                index: IndexConfiguration(source: .index(try SemanticIndex.open(path: url + "?wait=2", model: SearchRouteTests.model))))
        let second = GemmaServer(model: SearchRouteTests.model, configuration: .init(),
                                 index: IndexConfiguration(source: .index(try SemanticIndex.open(path: url + "?wait=2", model: SearchRouteTests.model))))
        try await first.application().test(.router) { a in
            try await second.application().test(.router) { b in
                for client in [a, b] as [any TestClientProtocol] {
                    let (status, object) = try await Self.search(client, #"{"query": "abc hi", "k": 5}"#)
                    #expect(status == .ok)
                    #expect(Self.paths(object) == expected)
                }
                // A file written by the indexer is found by both replicas at once.
                try "unmistakable qqzz marker\n".write(toFile: root + "/docs/new.txt", atomically: true, encoding: .utf8)
                try indexer.update([root + "/docs"])
                for client in [a, b] as [any TestClientProtocol] {
                    let (status, object) = try await Self.search(client, #"{"query": "qqzz", "k": 1}"#)
                    #expect(status == .ok)
                    #expect(Self.paths(object) == [root + "/docs/new.txt"])
                }
                // The database goes away: 503 naming the reason, quickly; then it comes back.
                try server.stop()
                let started = ContinuousClock.now
                let (status, object) = try await Self.search(a, #"{"query": "abc hi", "k": 5}"#)
                #expect(status == .serviceUnavailable)
                #expect(Self.message(object).contains("unavailable"), "\(object)")
                #expect(started.duration(to: .now) < .seconds(20), "wait=2 plus at most 5 s waiting for a connection, on a loaded machine")
                try await b.execute(uri: "/api/index", method: .get) { response in
                    #expect(response.status == .serviceUnavailable)
                }
                // Many clients at once while it is down: each waits its own wait=2 beside the others,
                // not behind them (one after another, 32 searches would take over a minute on 2 cores).
                let crowd = ContinuousClock.now
                let answers = try await withThrowingTaskGroup(of: (HTTPResponse.Status, String).self) { group in
                    for _ in 0..<Self.crowd {
                        group.addTask {
                            let (status, object) = try await Self.search(a, #"{"query": "abc hi", "k": 5}"#)
                            return (status, Self.message(object))
                        }
                    }
                    return try await group.reduce(into: [(HTTPResponse.Status, String)]()) { $0.append($1) }
                }
                let crowdSeconds = crowd.duration(to: .now) / .seconds(1)
                print("PostgreSQL down: \(Self.crowd) concurrent searches answered 503 in \(String(format: "%.1f", crowdSeconds)) s")
                #expect(answers.count == Self.crowd, "\(answers)")
                #expect(answers.allSatisfy { $0.0 == .serviceUnavailable && $0.1.contains("unavailable") }, "\(answers)")
                #expect(crowdSeconds < 5, "concurrent searches wait side by side for the database (on the global dispatch queue: 9 s)")
                try server.restart()
                let back = ContinuousClock.now
                let now = try indexer.search("abc hi", limit: 5).map(\.path)
                for client in [a, b] as [any TestClientProtocol] {
                    let (status, object) = try await Self.search(client, #"{"query": "abc hi", "k": 5}"#)
                    #expect(status == .ok)
                    #expect(Self.paths(object) == now)
                }
                #expect(back.duration(to: .now) < .seconds(20), "both replicas answer within seconds of the database being back")
            }
        }
    }
}
