import EmbeddingGemma
import EmbeddingGemmaTestSupport
import Foundation
import NIOCore
import PostgresNIO
import Testing
@testable import GemmaSearch

/// The PostgreSQL + pgvector store against a real server (scripts/postgres.sh): the same results
/// as the SQLite store on the same files, incremental updates, hostile names and queries, and
/// one clear error for each way a database can be wrong.
@Suite("PostgreSQL index on a tiny model", .serialized)
struct PostgresIndexTests {
    static let model = SemanticIndexTests.model
    static let options = SemanticIndexTests.options
    /// Chunks that hold a whole short line.
    static let wideOptions = IndexOptions(chunkTokens: 32, overlapTokens: 4, batchTokens: 128)

    /// The run's server, or nil (skipping) when there is none and none is required.
    static func server() throws -> PostgresTestServer? {
        if let server = PostgresTestServer.shared { return server }
        if PostgresTestServer.required { throw PostgresTestError("EMBEDDINGGEMMA_REQUIRE_POSTGRES=1 but GEMMA_TEST_POSTGRES_DIR names no running server") }
        return nil
    }

    static let queries = ["abc hi", "cabbage words", "zq-77 marker", "identical twins", "a long line", "ünï", "nothing like this at all"]

    @Test("the same hits as the SQLite store for every approximate index", arguments: PostgresLocation.VectorIndex.allCases)
    func parity(kind: PostgresLocation.VectorIndex) throws {
        guard let server = try Self.server() else { return }
        let (sqlite, root) = try SemanticIndexTests.newIndex()
        try sqlite.update([root], options: Self.options)
        let postgres = try SemanticIndex(path: try server.makeDatabase() + "?vector_index=\(kind.rawValue)", model: Self.model, options: Self.options)
        let summary = try postgres.update([root], options: Self.options)
        #expect(summary.filesAdded == 6)
        let expected = try sqlite.statistics()
        let actual = try postgres.statistics()
        #expect(actual.files == expected.files)
        #expect(actual.skippedFiles == expected.skippedFiles)
        #expect(actual.chunks == expected.chunks)
        #expect(actual.tokens == expected.tokens)
        #expect(actual.lastChange != nil)
        #expect(actual.bytesOnDisk > 0)
        for query in Self.queries {
            for (under, filesOnly) in [(nil, false), (root + "/notes", false), (nil, true)] as [(String?, Bool)] {
                let want = try sqlite.search(query, limit: 5, under: under, filesOnly: filesOnly)
                let got = try postgres.search(query, limit: 5, under: under, filesOnly: filesOnly)
                #expect(got.map(\.path) == want.map(\.path), "\(kind) '\(query)' under \(under ?? "all")")
                #expect(got.map(\.line) == want.map(\.line))
                for (a, b) in zip(got, want) {
                    #expect(abs(a.score - b.score) < 1e-4)
                    #expect(a.lexicalScore == b.lexicalScore)
                    #expect(a.text == b.text)
                    #expect(a.title == b.title)
                }
            }
        }
        // Reopened by URL without a model: the recorded model's metadata and the same hits.
        let reopened = try SemanticIndex.open(path: postgres.path.replacingOccurrences(of: "gemma@", with: "gemma:gemma-test@"), model: Self.model)
        #expect(reopened.metadata == postgres.metadata)
        #expect(try reopened.search("cabbage words", limit: 3).map(\.path) == sqlite.search("cabbage words", limit: 3).map(\.path))
    }

    @Test("updates are incremental; removed files and folders leave the index; a narrow folder still fills the result")
    func incremental() throws {
        guard let server = try Self.server() else { return }
        let (_, root) = try SemanticIndexTests.newIndex()
        let index = try SemanticIndex(path: try server.makeDatabase(), model: Self.model, options: Self.options)
        try index.update([root], options: Self.options)
        let before = try index.statistics()
        let again = try index.update([root], options: Self.options)
        #expect(again.filesUnchanged == 8)
        #expect(again.chunksEmbedded == 0)
        try "cabbage words changed\n".write(toFile: root + "/notes/beta.md", atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: root + "/copy2.txt")
        let changed = try index.update([root], options: Self.options)
        #expect(changed.filesChanged == 1)
        #expect(changed.filesRemoved == 1)
        #expect(try index.statistics().files == before.files - 1)
        #expect(try index.search("zq-77 marker", limit: 10).allSatisfy { !$0.text.contains("zq-77") })
        // A folder holding one chunk among many: the filtered HNSW scan still finds it.
        let many = root + "/many"
        try FileManager.default.createDirectory(atPath: many, withIntermediateDirectories: true)
        for n in 0..<150 { try "filler number \(n) of many\n".write(toFile: many + "/f\(n).txt", atomically: false, encoding: .utf8) }
        try index.update([root], options: Self.options)
        let narrow = try index.search("filler", limit: 5, under: root + "/notes")
        #expect(narrow.count == 2, "both chunks of notes/, however far from the query")
        #expect(narrow.allSatisfy { $0.path.hasPrefix(root + "/notes/") })
        #expect(try index.remove([many]) == 150)
        #expect(try index.holdsFiles(under: many) == false)
        #expect(try index.holdsFiles(under: root + "/notes"))
        #expect(try index.holdsFiles(under: root + "/not") == false, "/not is not a folder above /notes")
    }

    @Test("quotes, semicolons, NUL and 10 kB queries are stored and searched literally")
    func hostileInput() throws {
        guard let server = try Self.server() else { return }
        let names = ["it's.txt", "a\"b;c.txt", "'; DROP TABLE gemma_files; --.txt", "$1 %_ \\.txt", "ünï 日本.txt"]
        var files: [String: String] = [:]
        for (n, name) in names.enumerated() { files[name] = "O'Brien \"x; y\" zz\(n)qq\n" }
        let root = try SemanticIndexTests.corpus(files)
        let index = try SemanticIndex(path: try server.makeDatabase(), model: Self.model, options: Self.wideOptions)
        try index.update([root], options: Self.wideOptions)
        #expect(try index.statistics().files == names.count)
        for (n, name) in names.enumerated() {
            let hits = try index.search("zz\(n)qq", limit: 1)
            #expect(hits.first?.path == root + "/" + name)
            #expect(hits.first?.text.contains("O'Brien \"x; y\"") == true, "\(String(describing: hits.first?.text))")
            #expect(try index.preview(of: root + "/" + name, around: 1, context: 1).lines.first?.contains("O'Brien") == true)
        }
        for query in ["'; DROP TABLE gemma_chunks; --", "zz1qq\u{0}", String(repeating: "O'Brien \"; ", count: 1000), "%", "\\", "<-> & | !"] {
            _ = try index.search(query, limit: 3)
        }
        #expect(try index.search("zz1qq\u{0}", limit: 1).first?.path == root + "/" + names[1])
        #expect(try index.statistics().files == names.count, "nothing was dropped")
    }

    @Test("an index built with another model or width is refused with the SQLite store's error; a rebuild starts over")
    func modelMismatch() throws {
        guard let server = try Self.server() else { return }
        let (_, root) = try SemanticIndexTests.newIndex()
        let url = try server.makeDatabase()
        let index = try SemanticIndex(path: url, model: Self.model, options: Self.options)
        try index.update([root], options: Self.options)
        var other = index.metadata
        other.modelFingerprint = "0123456789abcdef"
        try index.store.reset(other)
        #expect(throws: SearchError.modelMismatch(path: index.path, stored: other, requested: index.metadata)) {
            try SemanticIndex(path: url, model: Self.model, options: Self.options)
        }
        var narrower = index.metadata
        narrower.dimensions = 8
        try index.store.reset(index.metadata)
        #expect(throws: SearchError.modelMismatch(path: index.path, stored: index.metadata, requested: narrower)) {
            try SemanticIndex(path: url, model: Self.model, options: IndexOptions(dimensions: 8))
        }
        try index.update([root], options: Self.options)
        let rebuilt = try SemanticIndex(path: url, model: Self.model, options: Self.options, rebuild: true)
        #expect(try rebuilt.statistics().chunks == 0)
        #expect(try rebuilt.statistics().files == 0)
    }

    @Test("pgvector's binary forms: vector, halfvec and vector arrays read back as PostgreSQL prints them")
    func wireFormat() throws {
        guard let server = try Self.server() else { return }
        let url = try server.makeDatabase()
        let store = try PostgresIndexStore(location: PostgresLocation(url: url), create: true)
        let values: [Float] = [1, -2.5, 0.1, 65504, 1e-8, -0.0]
        let logger = store.logger
        let printed = try store.read { connection -> [String] in
            var rows: [String] = []
            let query: PostgresQuery = """
                SELECT \(PostgresVector(values, types: store.types))::text, \(PostgresVector(values, types: store.types, half: true))::text,
                       (\(PostgresVectorArray([values, [3, 4, 5, 6, 7, 8]], types: store.types)))[2]::text
                """
            for try await (a, b, c) in try await connection.query(query, logger: logger).decode((String, String, String).self) { rows = [a, b, c] }
            return rows
        }
        #expect(printed == ["[1,-2.5,0.1,65504,1e-08,-0]", "[1,-2.5,0.099975586,65504,0,-0]", "[3,4,5,6,7,8]"])
        let read = try store.read { connection -> [Float]? in
            var vector: [Float]?
            for try await bytes in try await connection.query("SELECT '[0.5,-1,3]'::vector", logger: logger).decode(ByteBuffer.self) { vector = PostgresVector.read(bytes) }
            return vector
        }
        #expect(read == [0.5, -1, 3])
    }

    @Test("a wrong password, a closed port, a missing database, no pgvector, a bad URL: one clear error each")
    func clearErrors() throws {
        guard let server = try Self.server() else { return }
        let url = server.url
        func failure(_ location: String) -> SearchError? {
            do { _ = try SemanticIndex(path: location, model: Self.model, options: Self.options); return nil } catch { return error }
        }
        let wrong = failure(url.replacingOccurrences(of: ":gemma-test@", with: ":wrong@"))
        #expect(wrong?.description.contains("password authentication failed") == true, "\(String(describing: wrong))")
        #expect(wrong?.description.contains("wrong") == false, "the password is never shown")
        let port = try #require(LoopbackPort.unused())
        let closed = failure("postgres://gemma:gemma-test@127.0.0.1:\(port)/gemma")
        #expect(closed.map { if case .storeUnavailable = $0 { true } else { false } } == true, "\(String(describing: closed))")
        #expect(closed?.description.contains("127.0.0.1:\(port)") == true)
        let missing = failure(server.url(database: "no_such_database"))
        #expect(missing?.description.contains("does not exist") == true, "\(String(describing: missing))")
        // A role that may log in but not create extensions, in a database without pgvector.
        let database = "gemma_noext_" + UUID().uuidString.prefix(8).lowercased()
        try server.sql("CREATE DATABASE \(database)")
        try server.sql("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'plain') THEN CREATE ROLE plain LOGIN PASSWORD 'plain-pw'; END IF; END $$")
        let plain = server.url(database: database).replacingOccurrences(of: "gemma:gemma-test@", with: "plain:plain-pw@")
        let noVector = failure(plain)
        #expect(noVector?.description.contains("pgvector is not available") == true, "\(String(describing: noVector))")
        // TLS: asked for of a server without it is an error; preferred, it falls back to plain; off, it is not tried.
        let noTLS = failure(url + "?sslmode=require")
        #expect(noTLS?.description.contains("does not offer TLS") == true, "\(String(describing: noTLS))")
        let plainURL = try server.makeDatabase()
        #expect(failure(plainURL + "?sslmode=prefer") == nil)
        #expect(failure(plainURL + "?sslmode=disable") == nil)
        #expect(failure(try server.socketURL.replacingOccurrences(of: "/gemma?", with: "/\(plainURL.split(separator: "/").last ?? "")?")) == nil,
                "a Unix socket folder")
        #expect(failure("postgres://u@h/db?vector_index=ivf")?.description.contains("vector_index must be one of") == true)
        #expect(failure("postgres://u@h/db?ef_search=0")?.description.contains("ef_search") == true)
        #expect(failure("postgres://u@h/db?colour=red")?.description.contains("unknown parameter 'colour'") == true)
        let expected = SearchError.indexNotFound(path: try PostgresLocation(url: server.url(database: database)).description)
        #expect(throws: expected) {
            _ = try SemanticIndex.open(path: server.url(database: database), model: Self.model)
        }
    }
}
