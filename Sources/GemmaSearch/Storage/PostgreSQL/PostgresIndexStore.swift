import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO

/// An index in a PostgreSQL database with pgvector (``PostgresSchema``), shared by any number of
/// indexing processes and servers.
///
/// Every write is one transaction that first takes advisory locks on its paths' hash buckets (in
/// order, so writers never deadlock), then replaces those files' rows: two indexers writing the
/// same file leave one copy, and a search sees all of a file's chunks or none of them. Nothing
/// is cached in memory: the dense search's first stage is pgvector's HNSW index, so every replica
/// sees every commit at once.
final class PostgresIndexStore: IndexStore {
    let connector: PostgresConnector
    let types: PostgresVectorTypes
    /// The approximate index the stored index was set up with (read at open, set by ``reset(_:)``).
    private let indexKind: LockedValue<PostgresLocation.VectorIndex>
    let logger = Logger(label: "GemmaSearch.postgres", factory: { _ in SwiftLogNoOpLogHandler() })

    var location: String { connector.location.description }
    var ownFiles: Set<String> { [] }
    var vectorIndex: PostgresLocation.VectorIndex { indexKind.value }

    /// Connects, checks pgvector, looks up its types and brings the tables up to date.
    /// - Throws: ``SearchError/storeUnavailable(location:reason:)`` when the database cannot be
    ///   reached or refuses the login, ``SearchError/storage(_:)`` without pgvector,
    ///   ``SearchError/indexNotFound(path:)`` for a database never set up when `create` is false.
    init(location: PostgresLocation, create: Bool) throws(SearchError) {
        connector = try PostgresConnector(location: location)
        let configuration = connector.connectionConfiguration
        let logger = logger
        // One connection of its own, tried once: a wrong password or host is an error at once,
        // where the pool would keep trying.
        let opened = try connector.once(within: .seconds(30)) {
            let connection = try await PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration,
                                                                  id: 0, logger: logger).get()
            do {
                let result = try await Self.prepare(connection, location: location, create: create, logger: logger)
                try await connection.close()
                return result
            } catch {
                try? await connection.close()
                throw error
            }
        }
        types = opened.types
        indexKind = LockedValue(opened.kind ?? location.vectorIndex)
    }

    /// pgvector, its type OIDs, the schema, and the approximate index recorded (nil: not set up).
    private static func prepare(_ connection: PostgresConnection, location: PostgresLocation, create: Bool,
                                logger: Logger) async throws -> (types: PostgresVectorTypes, kind: PostgresLocation.VectorIndex?) {
        var version: String?
        for try await found in try await connection.query("SELECT extversion FROM pg_extension WHERE extname = 'vector'", logger: logger).decode(String.self) {
            version = found
        }
        if version == nil {
            do {
                // Under the schema lock: processes opening a new database at once would race here.
                try await connection.withTransaction(logger: logger) { connection in
                    try await connection.query("SELECT pg_advisory_xact_lock(\(PostgresSchema.lockKey))", logger: logger)
                    try await connection.query("CREATE EXTENSION IF NOT EXISTS vector", logger: logger)
                }
            } catch {
                let cause = (error as? PostgresTransactionError).flatMap { $0.closureError ?? $0.beginError ?? $0.commitError } ?? error
                let message = (cause as? PSQLError).map { $0.serverInfo?[.message] ?? "\($0.code)" } ?? "\(cause)"
                throw SearchError.storage("pgvector is not available in the database \(location): \(message); install pgvector 0.8 or later on the server and have a superuser run CREATE EXTENSION vector in that database")
            }
            for try await found in try await connection.query("SELECT extversion FROM pg_extension WHERE extname = 'vector'", logger: logger).decode(String.self) {
                version = found
            }
        }
        let parts = (version ?? "0").split(separator: ".").compactMap { Int($0) }
        guard (parts.first ?? 0, parts.dropFirst().first ?? 0) >= (0, 8) else {
            throw SearchError.storage("the database \(location) has pgvector \(version ?? "?"); the index needs 0.8 or later (ALTER EXTENSION vector UPDATE)")
        }
        var oids: [String: (UInt32, UInt32)] = [:]
        let typeQuery: PostgresQuery = """
            SELECT t.typname::text, t.oid::int8, t.typarray::int8 FROM pg_type t
            JOIN pg_extension e ON e.extnamespace = t.typnamespace AND e.extname = 'vector'
            WHERE t.typname IN ('vector', 'halfvec')
            """
        for try await (name, oid, array) in try await connection.query(typeQuery, logger: logger).decode((String, Int64, Int64).self) {
            oids[name] = (UInt32(truncatingIfNeeded: oid), UInt32(truncatingIfNeeded: array))
        }
        guard let vector = oids["vector"], let half = oids["halfvec"] else {
            throw SearchError.storage("the database \(location) has no pgvector types vector and halfvec")
        }
        let types = PostgresVectorTypes(vector: PostgresDataType(vector.0), vectorArray: PostgresDataType(vector.1), halfvec: PostgresDataType(half.0))
        if !create {
            var exists = false
            for try await found in try await connection.query("SELECT to_regclass('gemma_meta') IS NOT NULL", logger: logger).decode(Bool.self) {
                exists = found
            }
            guard exists else { throw SearchError.indexNotFound(path: location.description) }
        }
        try await PostgresSchema.migrate(connection, logger: logger)
        var kind: PostgresLocation.VectorIndex?
        for try await value in try await connection.query("SELECT value FROM gemma_meta WHERE key = 'vector_index'", logger: logger).decode(String.self) {
            kind = PostgresLocation.VectorIndex(rawValue: value)
        }
        return (types, kind)
    }

    /// Runs `work` on a connection from the pool, waiting for the database at most the location's `wait`.
    func read<T: Sendable>(_ work: @escaping @Sendable (PostgresConnection) async throws -> T) throws(SearchError) -> T {
        try connector.run(work)
    }

    /// Runs `work` in a transaction, trying again (for up to two minutes) when the connection is
    /// lost: an indexer rides out a database restart.
    func transaction<T: Sendable>(_ work: @escaping @Sendable (PostgresConnection) async throws -> T) throws(SearchError) -> T {
        let logger = logger
        return try connector.run(wait: max(connector.location.wait, .seconds(120))) { connection in
            try await connection.withTransaction(logger: logger) { connection in try await work(connection) }
        }
    }

    // MARK: Settings

    func metadata() throws(SearchError) -> IndexMetadata? {
        let logger = logger
        let pairs = try read { connection in
            var pairs: [String: String] = [:]
            for try await (key, value) in try await connection.query("SELECT key, value FROM gemma_meta", logger: logger).decode((String, String).self) {
                pairs[key] = value
            }
            return pairs
        }
        return IndexMetadata(pairs: pairs)
    }

    func reset(_ metadata: IndexMetadata) throws(SearchError) {
        _ = try reset(metadata, unlessSetUp: false)
    }

    func setUp(_ metadata: IndexMetadata) throws(SearchError) -> IndexMetadata {
        try reset(metadata, unlessSetUp: true)
    }

    /// Empties the tables and records `metadata`, under the schema lock; with `unlessSetUp`, an
    /// index another process set up meanwhile is kept, and its metadata returned.
    private func reset(_ metadata: IndexMetadata, unlessSetUp: Bool) throws(SearchError) -> IndexMetadata {
        let location = connector.location
        let logger = logger
        var pairs = metadata.pairs
        pairs["vector_index"] = location.vectorIndex.rawValue
        pairs["hnsw_m"] = String(location.m)
        pairs["hnsw_ef_construction"] = String(location.efConstruction)
        pairs["updated_at"] = String(Date().timeIntervalSince1970)
        let settings = pairs
        let recorded = try transaction { connection -> (IndexMetadata, String)? in
            try await connection.query("SELECT pg_advisory_xact_lock(\(PostgresSchema.lockKey))", logger: logger)
            if unlessSetUp {
                var pairs: [String: String] = [:]
                for try await (key, value) in try await connection.query("SELECT key, value FROM gemma_meta", logger: logger).decode((String, String).self) {
                    pairs[key] = value
                }
                if let existing = IndexMetadata(pairs: pairs) { return (existing, pairs["vector_index"] ?? "") }
            }
            try await connection.query("TRUNCATE gemma_chunks, gemma_files", logger: logger)
            for statement in PostgresSchema.vectorColumn(dimensions: metadata.dimensions, index: location.vectorIndex, m: location.m,
                                                         efConstruction: location.efConstruction) {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
            try await connection.query("DELETE FROM gemma_meta", logger: logger)
            try await connection.query("INSERT INTO gemma_meta(key, value) SELECT * FROM unnest(\(Array(settings.keys))::text[], \(Array(settings.values))::text[])", logger: logger)
            return nil
        }
        if let (existing, kind) = recorded {
            indexKind.value = PostgresLocation.VectorIndex(rawValue: kind) ?? location.vectorIndex
            return existing
        }
        indexKind.value = location.vectorIndex
        return metadata
    }

    func updateModelPath(_ modelPath: String) throws(SearchError) {
        let logger = logger
        try transaction { connection in
            try await connection.query("UPDATE gemma_meta SET value = \(modelPath) WHERE key = 'model_path'", logger: logger)
        }
    }

    // MARK: Files

    func files() throws(SearchError) -> [String: StoredFile] {
        try fetchFiles(where: "")
    }

    func file(at path: String) throws(SearchError) -> StoredFile? {
        let logger = logger
        return try read { connection in
            var found: StoredFile?
            let query: PostgresQuery = "SELECT id, path, size, modified, hash, chunk_count FROM gemma_files WHERE path = \(path) AND skipped IS NULL"
            for try await row in try await connection.query(query, logger: logger).decode((Int64, String, Int64, Int64, String, Int32).self) {
                found = StoredFile(id: row.0, path: row.1, size: row.2, modified: row.3, hash: row.4, chunkCount: Int(row.5))
            }
            return found
        }
    }

    private func fetchFiles(where condition: String) throws(SearchError) -> [String: StoredFile] {
        let logger = logger
        return try read { connection in
            var files: [String: StoredFile] = [:]
            let query = PostgresQuery(unsafeSQL: "SELECT id, path, size, modified, hash, chunk_count FROM gemma_files" + condition)
            for try await row in try await connection.query(query, logger: logger).decode((Int64, String, Int64, Int64, String, Int32).self) {
                files[row.1] = StoredFile(id: row.0, path: row.1, size: row.2, modified: row.3, hash: row.4, chunkCount: Int(row.5))
            }
            return files
        }
    }

    func filePaths(under prefix: String) throws(SearchError) -> [String] {
        let logger = logger
        let range = Self.folderRange(prefix)
        return try read { connection in
            var paths: [String] = []
            let query: PostgresQuery = """
                SELECT path FROM gemma_files
                WHERE path = \(prefix) OR (path >= \(range.lower) COLLATE "C" AND path < \(range.upper) COLLATE "C")
                """
            for try await path in try await connection.query(query, logger: logger).decode(String.self) { paths.append(path) }
            return paths
        }
    }

    /// The paths below the folder `prefix` are those from `prefix/` up to (not including)
    /// `prefix0` in byte order (`0` follows `/`).
    static func folderRange(_ prefix: String) -> (lower: String, upper: String) {
        let folder = prefix.hasSuffix("/") ? prefix : prefix + "/"
        return (folder, String(folder.dropLast()) + "0")
    }

    func commit(_ files: [IndexedFile]) throws(SearchError) {
        guard !files.isEmpty else { return }
        let logger = logger
        let types = types
        // Later entries for the same path win, as they would writing one after another; rows
        // are written in the order given (ids in indexing order, as the SQLite store's).
        var last: [String: Int] = [:]
        for (position, file) in files.enumerated() { last[file.path] = position }
        let batch = files.enumerated().filter { last[$0.element.path] == $0.offset }.map(\.element)
        let paths = batch.map(\.path)
        try transaction { connection in
            try await Self.lock(paths.sorted(), connection, logger: logger)
            try await connection.query("DELETE FROM gemma_files WHERE path = ANY(\(paths)::text[])", logger: logger)
            let insertFiles: PostgresQuery = """
                INSERT INTO gemma_files(path, size, modified, hash, chunk_count, skipped)
                SELECT p, s, m, h, c, NULLIF(k, '') FROM unnest(\(paths)::text[], \(batch.map(\.size))::int8[], \(batch.map(\.modified))::int8[],
                    \(batch.map(\.hash))::text[], \(batch.map { Int32($0.chunks.count) })::int4[], \(batch.map { $0.skipped ?? "" })::text[])
                    AS u(p, s, m, h, c, k)
                RETURNING id, path
                """
            var ids: [String: Int64] = [:]
            for try await (id, path) in try await connection.query(insertFiles, logger: logger).decode((Int64, String).self) { ids[path] = id }
            try await Self.insertChunks(of: batch, ids: ids, types: types, connection, logger: logger)
            try await Self.touchUpdatedAt(connection, logger: logger)
        }
    }

    /// Inserts the chunks of `files` through `unnest`, a few thousand rows a statement.
    private static func insertChunks(of files: [IndexedFile], ids: [String: Int64], types: PostgresVectorTypes,
                                     _ connection: PostgresConnection, logger: Logger) async throws {
        var rows: [(file: Int64, path: String, ordinal: Int32, chunk: EmbeddedChunk)] = []
        for file in files {
            guard let id = ids[file.path] else { continue }
            for (ordinal, chunk) in file.chunks.enumerated() { rows.append((id, file.path, Int32(ordinal), chunk)) }
        }
        var start = 0
        while start < rows.count {
            let part = rows[start..<min(start + 2000, rows.count)]
            start = part.endIndex
            let query: PostgresQuery = """
                INSERT INTO gemma_chunks(file_id, path, ordinal, start_line, end_line, title, body, text_hash, token_count, terms, embedding)
                SELECT f, p, o, s, e, NULLIF(t, ''), b, h, n, v::tsvector, x FROM unnest(
                    \(part.map(\.file))::int8[], \(part.map(\.path))::text[], \(part.map(\.ordinal))::int4[],
                    \(part.map { Int32($0.chunk.chunk.startLine) })::int4[], \(part.map { Int32($0.chunk.chunk.endLine) })::int4[],
                    \(part.map { $0.chunk.chunk.title ?? "" })::text[], \(part.map { Self.storable($0.chunk.chunk.text) })::text[],
                    \(part.map { TextHash.of($0.chunk.chunk.text) })::int8[], \(part.map { Int32($0.chunk.chunk.tokenCount) })::int4[],
                    \(part.map { PostgresTerms.vector(of: $0.chunk.chunk.text) })::text[],
                    \(PostgresVectorArray(part.map(\.chunk.vector), types: types))) AS u(f, p, o, s, e, t, b, h, n, v, x)
                """
            try await connection.query(query, logger: logger)
        }
    }

    /// PostgreSQL's text cannot hold NUL characters; they are stored as U+FFFD.
    static func storable(_ text: String) -> String {
        text.contains("\u{0}") ? text.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : text
    }

    /// Takes the transaction's advisory locks of the paths' buckets (1 024 buckets by hash, so a
    /// transaction holds at most 1 024 locks however many files it writes), in order: writers of
    /// overlapping files wait; none deadlock.
    private static func lock(_ paths: [String], _ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("""
            SELECT count(pg_advisory_xact_lock(\(PostgresSchema.pathLockSpace), k)) FROM
                (SELECT DISTINCT (hashtext(p) & 1023) AS k FROM unnest(\(paths)::text[]) AS p ORDER BY 1) AS l
            """, logger: logger)
    }

    private static func touchUpdatedAt(_ connection: PostgresConnection, logger: Logger) async throws {
        let now = String(Date().timeIntervalSince1970)
        try await connection.query("""
            INSERT INTO gemma_meta(key, value) VALUES ('updated_at', \(now)) ON CONFLICT (key) DO UPDATE SET value = excluded.value
            """, logger: logger)
    }

    func touch(_ updates: [(id: Int64, modified: Int64)]) throws(SearchError) {
        guard !updates.isEmpty else { return }
        let logger = logger
        let ids = updates.map(\.id)
        let times = updates.map(\.modified)
        try transaction { connection in
            try await connection.query("""
                UPDATE gemma_files SET modified = u.m FROM unnest(\(ids)::int8[], \(times)::int8[]) AS u(id, m) WHERE gemma_files.id = u.id
                """, logger: logger)
        }
    }

    @discardableResult
    func remove(paths: [String]) throws(SearchError) -> Int {
        guard !paths.isEmpty else { return 0 }
        let logger = logger
        let sorted = Array(Set(paths)).sorted()
        return try transaction { connection in
            try await Self.lock(sorted, connection, logger: logger)
            var removed = 0
            for try await _ in try await connection.query("DELETE FROM gemma_files WHERE path = ANY(\(sorted)::text[]) RETURNING id", logger: logger).decode(Int64.self) {
                removed += 1
            }
            try await Self.touchUpdatedAt(connection, logger: logger)
            return removed
        }
    }

    func counts() throws(SearchError) -> IndexCounts {
        let logger = logger
        return try read { connection in
            let query: PostgresQuery = """
                SELECT (SELECT count(*) FROM gemma_files WHERE skipped IS NULL), (SELECT count(*) FROM gemma_files WHERE skipped IS NOT NULL),
                       (SELECT count(*) FROM gemma_chunks), (SELECT coalesce(sum(token_count), 0)::int8 FROM gemma_chunks),
                       (SELECT value FROM gemma_meta WHERE key = 'updated_at'),
                       (pg_total_relation_size('gemma_chunks') + pg_total_relation_size('gemma_files') + pg_total_relation_size('gemma_meta'))::int8
                """
            var counts = IndexCounts(files: 0, skipped: 0, chunks: 0, tokens: 0, bytesOnDisk: 0, lastChange: nil)
            for try await row in try await connection.query(query, logger: logger).decode((Int64, Int64, Int64, Int64, String?, Int64).self) {
                counts = IndexCounts(files: Int(row.0), skipped: Int(row.1), chunks: Int(row.2), tokens: Int(row.3), bytesOnDisk: row.5,
                                     lastChange: row.4.flatMap(Double.init).map { Date(timeIntervalSince1970: $0) })
            }
            return counts
        }
    }
}
