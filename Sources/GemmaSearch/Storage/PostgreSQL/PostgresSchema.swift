import Foundation
import Logging
import NIOCore
import PostgresNIO

/// The tables of a PostgreSQL index, created and migrated by numbered versions, each in one
/// transaction under an advisory lock (processes opening a new database at once wait for one
/// another instead of racing). `gemma_schema` records the versions applied.
///
/// - `gemma_meta`: what the index was built with (the same pairs as the SQLite store's), the
///   approximate index chosen (`vector_index`, `hnsw_m`, `hnsw_ef_construction`) and `updated_at`.
/// - `gemma_files`: path (byte order, `COLLATE "C"`, so folder ranges are index ranges), size,
///   modification time, SHA-256, chunk count, or why the file was left out.
/// - `gemma_chunks`: the file, its path again (a folder filter on the same table as the vector
///   search, which pgvector's iterative scans need), line range, title, text, text hash, token
///   count, `terms` (a `tsvector` of the words, GIN-indexed, for phrase matches) and
///   `embedding vector(n)`, whose width is set when the index is set up, with the HNSW index.
enum PostgresSchema {
    /// Arbitrary key of the advisory lock that serialises schema changes.
    static let lockKey: Int64 = 0x6765_6D6D_6173_6368
    /// The first key of the two-key advisory locks on path buckets (the second is the bucket).
    static let pathLockSpace: Int32 = 0x6765_6D61

    /// The versions, in order.
    static let migrations: [(version: Int, sql: [String])] = [
        (1, [
            """
            CREATE TABLE gemma_meta (key text PRIMARY KEY, value text NOT NULL)
            """,
            """
            CREATE TABLE gemma_files (
                id bigserial PRIMARY KEY,
                path text COLLATE "C" NOT NULL UNIQUE,
                size bigint NOT NULL,
                modified bigint NOT NULL,
                hash text NOT NULL,
                chunk_count integer NOT NULL,
                skipped text
            )
            """,
            """
            CREATE TABLE gemma_chunks (
                id bigserial PRIMARY KEY,
                file_id bigint NOT NULL REFERENCES gemma_files(id) ON DELETE CASCADE,
                path text COLLATE "C" NOT NULL,
                ordinal integer NOT NULL,
                start_line integer NOT NULL,
                end_line integer NOT NULL,
                title text,
                body text NOT NULL,
                text_hash bigint NOT NULL,
                token_count integer NOT NULL,
                terms tsvector NOT NULL,
                embedding vector NOT NULL
            )
            """,
            "CREATE INDEX gemma_chunks_file ON gemma_chunks (file_id)",
            "CREATE INDEX gemma_chunks_path ON gemma_chunks (path)",
            "CREATE INDEX gemma_chunks_terms ON gemma_chunks USING gin (terms)",
        ]),
    ]

    /// Creates the tables or brings them to the latest version.
    static func migrate(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
            try await connection.query("CREATE TABLE IF NOT EXISTS gemma_schema (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())", logger: logger)
            var applied = 0
            for try await version in try await connection.query("SELECT coalesce(max(version), 0) FROM gemma_schema", logger: logger).decode(Int.self) {
                applied = version
            }
            guard applied <= migrations.last?.version ?? 0 else {
                throw SearchError.invalidOption("the index tables are at schema version \(applied), newer than this program knows; update it")
            }
            for migration in migrations where migration.version > applied {
                for statement in migration.sql { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
                try await connection.query("INSERT INTO gemma_schema(version) VALUES (\(migration.version))", logger: logger)
            }
        }
    }

    /// Statements that give `gemma_chunks` vectors of `dimensions` and its approximate index
    /// (run on an empty table).
    static func vectorColumn(dimensions: Int, index: PostgresLocation.VectorIndex, m: Int, efConstruction: Int) -> [String] {
        var statements = [
            "DROP INDEX IF EXISTS gemma_chunks_embedding",
            "ALTER TABLE gemma_chunks ALTER COLUMN embedding TYPE vector(\(dimensions))",
            // Vectors kept in the row (3 kB at 768 dimensions): not compressed (random floats do
            // not compress) nor moved out of line, so exact scoring reads them with the row.
            "ALTER TABLE gemma_chunks ALTER COLUMN embedding SET STORAGE PLAIN",
        ]
        if let expression = indexExpression(index, dimensions: dimensions) {
            statements.append("CREATE INDEX gemma_chunks_embedding ON gemma_chunks USING hnsw (\(expression)) WITH (m = \(m), ef_construction = \(efConstruction))")
        }
        return statements
    }

    /// The indexed expression and operator class of each kind of approximate index.
    static func indexExpression(_ index: PostgresLocation.VectorIndex, dimensions: Int) -> String? {
        switch index {
        case .vector: return "embedding vector_cosine_ops"
        case .halfvec: return "(embedding::halfvec(\(dimensions))) halfvec_cosine_ops"
        case .bit: return "(binary_quantize(embedding)::bit(\(dimensions))) bit_hamming_ops"
        case .none: return nil
        }
    }
}
