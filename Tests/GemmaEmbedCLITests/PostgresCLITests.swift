import EmbeddingGemmaTestSupport
import Foundation
import Testing

/// `gemma-embed index`, `search` and `index --stats` with a PostgreSQL URL as the index, as a
/// team would use them (the run's PostgreSQL server; skipped without one unless it is required).
@Suite("gemma-embed on a PostgreSQL index", .serialized)
struct PostgresCLITests {
    @Test("index into a postgres:// URL, search it as from a file, and never print the password")
    func indexAndSearch() throws {
        guard let server = PostgresTestServer.shared else {
            if PostgresTestServer.required { Issue.record("EMBEDDINGGEMMA_REQUIRE_POSTGRES=1 but no server was started") }
            return
        }
        let c = try SearchCLITests.corpus()
        let url = try server.makeDatabase()
        let first = try CLI.run(["index", "--index", url, "--model", SearchCLITests.model, "--chunk-tokens", "24", c.docs])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("4 files: 3 new, 0 changed, 0 unchanged, 0 removed"), "\(first.stderr)")
        // The index's URL from the environment, as GEMMA_EMBED_INDEX names a file today.
        let second = try CLI.run(["index", c.docs], environment: ["GEMMA_EMBED_INDEX": url])
        #expect(second.stderr.contains("0 new, 0 changed, 4 unchanged"), "\(second.stderr)")
        let plain = try CLI.run(["search", "--index", url, "-k", "2", "--lexical-weight", "5", "zq-77"], directory: c.root)
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(plain.stdout.split(separator: "\n").first?.hasPrefix("docs/a.txt:2: zq-77 here  (") == true, "\(plain.stdout)")
        let stats = try CLI.run(["index", "--index", url, "--stats"])
        #expect(stats.stdout.contains("files: 3 (1 more left out)"), "\(stats.stdout)")
        #expect(!stats.stdout.contains(":gemma-test@") && !stats.stderr.contains(":gemma-test@"), "the password is not printed: \(stats.stdout)")
        let wrong = try CLI.run(["search", "--index", url.replacingOccurrences(of: ":gemma-test@", with: ":nope@"), "hi"])
        #expect(wrong.status != 0)
        #expect(wrong.stderr.contains("password authentication failed"), "\(wrong.stderr)")
        #expect(!wrong.stderr.contains("nope"))
    }
}
