import AsyncHTTPClient
import EmbeddingGemma
import EmbeddingGemmaTestSupport
import Foundation
import GemmaSearch
@testable import GemmaServer
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// `/api/search` under 32 concurrent clients on loopback while the server's watcher indexes a
/// burst of files through the same batching queue: every search is answered, none fails, the
/// update finishes, and its files are searchable afterwards.
@Suite("Search under load while the index updates", .serialized)
struct SearchLoadTests {
    @Test("32 clients on loopback during a 300-file update: all 200, the update completes")
    func concurrentSearchesDuringUpdate() async throws {
        let (index, root) = try SearchRouteTests.indexed()
        let burst = root + "/burst"
        try FileManager.default.createDirectory(atPath: burst, withIntermediateDirectories: true)
        for n in 0..<300 {
            try "file \(n) about topic \(n % 17) with words abc hi and number w\(n)x\n".write(toFile: burst + "/f\(n).txt", atomically: false, encoding: .utf8)
        }
        let server = GemmaServer(model: SearchRouteTests.model, configuration: .init(host: "127.0.0.1", port: 0),
                                 index: IndexConfiguration(source: .index(index), watch: [root + "/docs", burst]))
        let watcher = try #require(server.indexWatcher)
        // One connection per client, and patience: the suite may share the cores with other suites.
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(300), read: .seconds(300)))
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 32)
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        try await server.application().test(.live) { client in
            let port = try #require(client.port)
            watcher.start()
            let deadline = ContinuousClock.now + .seconds(120)
            let results = try await withThrowingTaskGroup(of: (ok: Int, failed: Int, duringUpdate: Int).self) { group in
                for worker in 0..<32 {
                    group.addTask {
                        var ok = 0, failed = 0, duringUpdate = 0
                        // Each client searches until the update is over (and at least 5 times).
                        while ok + failed < 5 || (watcher.status.lastUpdateEnded == nil && ContinuousClock.now < deadline) {
                            let updating = watcher.status.update != nil
                            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/search")
                            request.method = .POST
                            request.body = .bytes(ByteBuffer(string: #"{"query": "topic \#(worker % 17) words", "k": 5}"#))
                            let response = try await http.execute(request, timeout: .seconds(300))
                            let body = try await response.body.collect(upTo: 1 << 20)
                            let object = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
                            if response.status == .ok, (object?["hits"] as? [Any])?.isEmpty == false { ok += 1 } else { failed += 1 }
                            if updating { duringUpdate += 1 }
                        }
                        return (ok, failed, duringUpdate)
                    }
                }
                var total = (ok: 0, failed: 0, duringUpdate: 0)
                for try await result in group {
                    total.ok += result.ok
                    total.failed += result.failed
                    total.duringUpdate += result.duringUpdate
                }
                return total
            }
            // Under a loaded CI machine the update may outlast the clients: let it finish alone.
            let finish = ContinuousClock.now + .seconds(900)
            while watcher.status.lastUpdateEnded == nil || watcher.status.update != nil, ContinuousClock.now < finish {
                try await Task.sleep(for: .milliseconds(200))
            }
            watcher.stop()
            #expect(results.failed == 0)
            #expect(results.ok >= 32 * 5)
            #expect(results.duringUpdate > 0, "searches ran while the update did")
            #expect(watcher.status.lastError == nil)
            #expect(try index.statistics().files == 4 + 300)
            let found = try index.search("number w299x", limit: 3, lexicalWeight: 5).map(\.path)
            #expect(found.first == burst + "/f299.txt")
        }
        try await http.shutdown()
    }
}
