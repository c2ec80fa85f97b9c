import EmbeddingGemma
import Foundation
import GRDB

/// An index in one SQLite file in WAL mode (readers never wait for the writer), its schema kept
/// by named migrations. Each write is one transaction, so a crash or `kill -9`
/// loses at most the write in flight and never leaves half a file's chunks.
///
/// Tables: `meta` (what the index was built with, and a generation counter bumped by every
/// write), `files` (path, size, modification time, SHA-256, chunk count, or why it was left
/// out), `chunks` (line range, title, token count, the float32 vector), `chunk_signs` (each
/// chunk's 1-bit code, 96 bytes at 768 dimensions) and the FTS5 table `chunk_text` (the chunk's
/// text; rowid = chunk id).
///
/// Dense search's first stage runs in memory: every chunk's sign bits, read once into a
/// ``VectorMatrix`` (``VectorCache``) and read again when another write has happened; its
/// candidates are then scored exactly with their float32 vectors.
final class SQLiteIndexStore: IndexStore {
    /// The file's absolute path.
    let path: String
    private let pool: DatabasePool
    /// The chunks' compressed vectors in memory, for the first stage of dense search.
    let cache = VectorCache()

    var location: String { path }
    var ownFiles: Set<String> { [path, path + "-wal", path + "-shm"] }

    /// Opens (or, with `create`, creates) the index at `path` and brings its schema up to date.
    init(path: String, create: Bool) throws(SearchError) {
        self.path = path
        if !create, !FileManager.default.fileExists(atPath: path) { throw .indexNotFound(path: path) }
        if create {
            let folder = (path as NSString).deletingLastPathComponent
            if !folder.isEmpty, !FileManager.default.fileExists(atPath: folder) {
                do {
                    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                } catch {
                    throw .storage("cannot create the folder \(folder): \(error.localizedDescription)")
                }
            }
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.label = "GemmaSearch"
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(pool)
        } catch {
            throw Self.translate(error, path: path)
        }
    }

    /// The schema, one migration per version.
    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
                CREATE TABLE files (
                    id INTEGER PRIMARY KEY,
                    path TEXT NOT NULL UNIQUE,
                    size INTEGER NOT NULL,
                    modified INTEGER NOT NULL,
                    hash TEXT NOT NULL,
                    chunk_count INTEGER NOT NULL,
                    skipped TEXT
                );
                CREATE TABLE chunks (
                    id INTEGER PRIMARY KEY,
                    file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
                    ordinal INTEGER NOT NULL,
                    start_line INTEGER NOT NULL,
                    end_line INTEGER NOT NULL,
                    title TEXT,
                    token_count INTEGER NOT NULL,
                    text_hash INTEGER NOT NULL,
                    scale REAL NOT NULL,
                    signs BLOB NOT NULL,
                    codes BLOB NOT NULL,
                    vector BLOB NOT NULL
                );
                CREATE INDEX chunks_by_file ON chunks(file_id);
                CREATE VIRTUAL TABLE chunk_text USING fts5(text, tokenize = 'unicode61 remove_diacritics 2');
                CREATE VIRTUAL TABLE chunk_terms USING fts5vocab(chunk_text, 'row');
                INSERT INTO meta(key, value) VALUES ('generation', '0');
                """)
        }
        // The sign codes of the first stage in a narrow table of their own (with the token count,
        // for statistics): loading them reads about 120 bytes a chunk instead of every chunk's
        // whole row (4 kB with its vector).
        // Chunk rows no longer keep int8 codes (the candidates are scored with their vectors).
        migrator.registerMigration("v2-sign-table") { db in
            try db.execute(sql: """
                CREATE TABLE chunk_signs (id INTEGER PRIMARY KEY, file_id INTEGER NOT NULL, tokens INTEGER NOT NULL, signs BLOB NOT NULL);
                INSERT INTO chunk_signs(id, file_id, tokens, signs) SELECT id, file_id, token_count, signs FROM chunks;
                UPDATE chunks SET signs = X'', codes = X'', scale = 0;
                UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation';
                """)
        }
        return migrator
    }

    /// A GRDB error as a ``SearchError`` a person can act on.
    static func translate(_ error: any Error, path: String) -> SearchError {
        if let error = error as? SearchError { return error }
        if let error = error as? DatabaseError {
            switch error.resultCode {
            case .SQLITE_NOTADB, .SQLITE_CORRUPT: return .indexCorrupt(path: path, reason: error.message ?? "not a database")
            case .SQLITE_BUSY, .SQLITE_LOCKED: return .indexLocked(path: path)
            case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_READONLY:
                return .storage("cannot open \(path) for writing: \(error.message ?? "permission denied")")
            default: return .storage(error.message ?? "\(error)")
            }
        }
        return .storage("\(error)")
    }

    func read<T>(_ body: (Database) throws -> T) throws(SearchError) -> T {
        do { return try pool.read(body) } catch { throw Self.translate(error, path: path) }
    }

    private func write<T>(_ body: (Database) throws -> T) throws(SearchError) -> T {
        do { return try pool.write(body) } catch { throw Self.translate(error, path: path) }
    }

    // MARK: Metadata

    /// What the index was built with; nil for a new index.
    func metadata() throws(SearchError) -> IndexMetadata? {
        let pairs = try read { db in
            try Row.fetchAll(db, sql: "SELECT key, value FROM meta").reduce(into: [String: String]()) { $0[$1[0]] = $1[1] }
        }
        return IndexMetadata(pairs: pairs)
    }

    /// Empties the index and records `metadata` (a new or rebuilt index).
    func reset(_ metadata: IndexMetadata) throws(SearchError) {
        try write { db in
            try db.execute(sql: "DELETE FROM chunk_text; DELETE FROM chunk_signs; DELETE FROM chunks; DELETE FROM files;")
            for (key, value) in metadata.pairs {
                try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", arguments: [key, value])
            }
            try Self.bumpGeneration(db)
        }
    }

    /// Records that the model was found at `modelPath` (same fingerprint, another place).
    func updateModelPath(_ modelPath: String) throws(SearchError) {
        try write { db in
            try db.execute(sql: "UPDATE meta SET value = ? WHERE key = 'model_path'", arguments: [modelPath])
        }
    }

    /// A number that changes with every write: cached vectors are reloaded when it moves.
    func generation() throws(SearchError) -> Int64 {
        try read { db in try Int64.fetchOne(db, sql: "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'generation'") ?? 0 }
    }

    /// Moves the generation on and records when the index last changed (`updated_at`, seconds since 1970).
    private static func bumpGeneration(_ db: Database) throws {
        try db.execute(sql: "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")
        try db.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES ('updated_at', ?)",
                       arguments: [String(Date().timeIntervalSince1970)])
    }

    // MARK: Files

    /// Every file the index knows, by path.
    func files() throws(SearchError) -> [String: StoredFile] {
        try read { db in
            var files: [String: StoredFile] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, path, size, modified, hash, chunk_count FROM files") {
                let file = StoredFile(id: row[0], path: row[1], size: row[2], modified: row[3], hash: row[4], chunkCount: row[5])
                files[file.path] = file
            }
            return files
        }
    }

    /// The file the index knows at exactly `path` (left-out files included), if any.
    func file(at path: String) throws(SearchError) -> StoredFile? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT id, path, size, modified, hash, chunk_count FROM files WHERE path = ? AND skipped IS NULL",
                             arguments: [path]).map {
                StoredFile(id: $0[0], path: $0[1], size: $0[2], modified: $0[3], hash: $0[4], chunkCount: $0[5])
            }
        }
    }

    /// Writes `files` in one transaction: each replaces what the index had for its path.
    func commit(_ files: [IndexedFile]) throws(SearchError) {
        guard !files.isEmpty else { return }
        try cache.write { () throws(SearchError) in
            let delta = try write { db in
                var delta = VectorCache.Delta(from: try Self.currentGeneration(db), to: 0)
                for file in files {
                    delta.removed += try Self.delete(path: file.path, db) ?? []
                    try db.execute(sql: "INSERT INTO files(path, size, modified, hash, chunk_count, skipped) VALUES (?, ?, ?, ?, ?, ?)",
                                   arguments: [file.path, file.size, file.modified, file.hash, file.chunks.count, file.skipped])
                    let fileId = db.lastInsertedRowID
                    for (ordinal, embedded) in file.chunks.enumerated() {
                        let chunk = embedded.chunk
                        try db.execute(sql: """
                            INSERT INTO chunks(file_id, ordinal, start_line, end_line, title, token_count, text_hash, scale, signs, codes, vector)
                            VALUES (?, ?, ?, ?, ?, ?, ?, 0, X'', X'', ?)
                            """, arguments: [fileId, ordinal, chunk.startLine, chunk.endLine, chunk.title, chunk.tokenCount,
                                             TextHash.of(chunk.text), Self.floatBytes(embedded.vector)])
                        let chunkId = db.lastInsertedRowID
                        let code = VectorCode(embedded.vector)
                        try db.execute(sql: "INSERT INTO chunk_signs(id, file_id, tokens, signs) VALUES (?, ?, ?, ?)",
                                       arguments: [chunkId, fileId, chunk.tokenCount, code.signBytes])
                        try db.execute(sql: "INSERT INTO chunk_text(rowid, text) VALUES (?, ?)", arguments: [chunkId, chunk.text])
                        delta.added.append((chunkId, fileId, code.signs))
                    }
                }
                try Self.bumpGeneration(db)
                delta.to = delta.from + 1
                return delta
            }
            return ((), delta)
        }
    }

    /// Records a new modification time for files whose bytes did not change.
    func touch(_ updates: [(id: Int64, modified: Int64)]) throws(SearchError) {
        guard !updates.isEmpty else { return }
        try write { db in
            for update in updates {
                try db.execute(sql: "UPDATE files SET modified = ? WHERE id = ?", arguments: [update.modified, update.id])
            }
        }
    }

    /// Removes files and their chunks; returns how many files were removed.
    @discardableResult
    func remove(paths: [String]) throws(SearchError) -> Int {
        guard !paths.isEmpty else { return 0 }
        return try cache.write { () throws(SearchError) in
            try write { db in
                var delta = VectorCache.Delta(from: try Self.currentGeneration(db), to: 0)
                var removed = 0
                for path in paths {
                    guard let ids = try Self.delete(path: path, db) else { continue }
                    removed += 1
                    delta.removed += ids
                }
                try Self.bumpGeneration(db)
                delta.to = delta.from + 1
                return (removed, delta)
            }
        }
    }

    /// Deletes the file at `path` and its chunks; returns the ids of its chunks (nil: no such file).
    private static func delete(path: String, _ db: Database) throws -> [Int64]? {
        guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM files WHERE path = ?", arguments: [path]) else { return nil }
        let chunkIds = try Int64.fetchAll(db, sql: "SELECT id FROM chunks WHERE file_id = ?", arguments: [id])
        try db.execute(sql: "DELETE FROM chunk_text WHERE rowid IN (SELECT id FROM chunks WHERE file_id = ?)", arguments: [id])
        try db.execute(sql: "DELETE FROM chunk_signs WHERE id IN (SELECT id FROM chunks WHERE file_id = ?)", arguments: [id])
        try db.execute(sql: "DELETE FROM chunks WHERE file_id = ?", arguments: [id])
        try db.execute(sql: "DELETE FROM files WHERE id = ?", arguments: [id])
        return chunkIds
    }

    private static func currentGeneration(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'generation'") ?? 0
    }

    /// Paths of indexed files equal to or below `prefix` (an absolute path).
    func filePaths(under prefix: String) throws(SearchError) -> [String] {
        try read { db in try String.fetchAll(db, sql: "SELECT path FROM files WHERE " + Self.under, arguments: Self.underArguments(prefix)) }
    }

    /// Ids of files equal to or below `prefix`.
    func fileIds(under prefix: String) throws(SearchError) -> Set<Int64> {
        try read { db in Set(try Int64.fetchAll(db, sql: "SELECT id FROM files WHERE " + Self.under, arguments: Self.underArguments(prefix))) }
    }

    /// The condition "`path` is the prefix or below it" (`/a/bc` is not below `/a/b`). SQLite counts
    /// characters in both `substr` and `length`, so non-ASCII paths compare correctly.
    private static let under = "(path = ? OR substr(path, 1, length(?)) = ?)"

    private static func underArguments(_ prefix: String) -> StatementArguments {
        let folder = prefix.hasSuffix("/") ? prefix : prefix + "/"
        return [prefix, folder, folder]
    }
}
