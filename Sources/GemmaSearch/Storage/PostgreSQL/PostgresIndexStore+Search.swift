import Foundation
import Logging
import NIOCore
import PostgresNIO

/// Reading for search: pgvector's HNSW index as the first stage (with iterative scans under a
/// folder filter, so a narrow folder still fills the result), exact cosines of the candidates,
/// chunk details and phrase matches through the `terms` GIN index.
extension PostgresIndexStore {
    func denseCandidates(for query: [Float], limit: Int, candidates: Int, under prefix: String?,
                         scoring extra: [Int64]) throws(SearchError) -> DenseCandidates {
        let logger = logger
        let kind = vectorIndex
        let dimensions = query.count
        let vector = PostgresVector(query, types: types)
        let half = PostgresVector(query, types: types, half: true)
        let location = connector.location
        // HNSW returns at most ef_search rows; the bit index's candidates (the search's effort, or
        // ef_search when larger) are re-ranked exactly.
        let shortlist = kind == .bit ? min(max(candidates, limit, location.efSearch), 1000) : limit
        let effort = min(max(location.efSearch, shortlist), 1000)
        let range = prefix.map(Self.folderRange)
        return try read { connection in
            try await connection.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT set_config('hnsw.ef_search', \(String(effort)), true)", logger: logger)
                if prefix != nil {
                    try await connection.query("SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true)", logger: logger)
                }
                var bindings = PostgresBindings()
                bindings.append(vector)
                let order: String
                switch kind {
                case .vector, .none:
                    order = "embedding <=> $1"
                case .halfvec:
                    bindings.append(half)
                    order = "embedding::halfvec(\(dimensions)) <=> $\(bindings.count)"
                case .bit:
                    order = "binary_quantize(embedding)::bit(\(dimensions)) <~> binary_quantize($1)"
                }
                var condition = ""
                if let prefix, let range {
                    bindings.append(prefix)
                    bindings.append(range.lower)
                    bindings.append(range.upper)
                    let base = bindings.count - 2
                    condition = "WHERE (path = $\(base) OR (path >= $\(base + 1) COLLATE \"C\" AND path < $\(base + 2) COLLATE \"C\"))"
                }
                bindings.append(shortlist)
                var sql = "SELECT id, embedding <=> $1 AS distance FROM gemma_chunks \(condition) ORDER BY \(order) LIMIT $\(bindings.count)"
                if kind == .bit || prefix != nil {
                    // Candidates (approximate, or out of order from a relaxed iterative scan) in exact order.
                    bindings.append(limit)
                    sql = "WITH c AS MATERIALIZED (\(sql)) SELECT id, distance FROM c ORDER BY distance LIMIT $\(bindings.count)"
                }
                let filter = PostgresQuery(unsafeSQL: sql, binds: bindings)
                var nearest: [(id: Int64, score: Float)] = []
                for try await (id, distance) in try await connection.query(filter, logger: logger).decode((Int64, Double).self) {
                    nearest.append((id, Float(1 - distance)))
                }
                nearest.sort { $0.score != $1.score ? $0.score > $1.score : $0.id < $1.id }
                var scored: [Int64: Float] = [:]
                if !extra.isEmpty {
                    var bindings = PostgresBindings()
                    bindings.append(vector)
                    bindings.append(extra)
                    var sql = "SELECT id, embedding <=> $1 FROM gemma_chunks WHERE id = ANY($2)"
                    if let prefix, let range {
                        bindings.append(prefix)
                        bindings.append(range.lower)
                        bindings.append(range.upper)
                        sql += " AND (path = $3 OR (path >= $4 COLLATE \"C\" AND path < $5 COLLATE \"C\"))"
                    }
                    for try await (id, distance) in try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
                        .decode((Int64, Double).self) {
                        scored[id] = Float(1 - distance)
                    }
                }
                // The planner's estimate when the table is large (a count would read it all), else the count.
                let countQuery: PostgresQuery = """
                    SELECT CASE WHEN c.reltuples < 100000 THEN (SELECT count(*) FROM gemma_chunks) ELSE c.reltuples::int8 END
                    FROM pg_class c WHERE c.oid = 'gemma_chunks'::regclass
                    """
                var count: Int64 = 0
                for try await value in try await connection.query(countQuery, logger: logger).decode(Int64.self) { count = value }
                return DenseCandidates(nearest: nearest, scored: scored, chunkCount: Int(count))
            }
        }
    }

    func vectors(_ ids: [Int64]) throws(SearchError) -> [Int64: [Float]] {
        guard !ids.isEmpty else { return [:] }
        let logger = logger
        let location = location
        return try read { connection in
            var vectors: [Int64: [Float]] = [:]
            for try await (id, bytes) in try await connection.query("SELECT id, embedding FROM gemma_chunks WHERE id = ANY(\(ids))", logger: logger)
                .decode((Int64, ByteBuffer).self) {
                guard let vector = PostgresVector.read(bytes) else {
                    throw SearchError.indexCorrupt(path: location, reason: "chunk \(id) holds a vector in an unknown form")
                }
                vectors[id] = vector
            }
            return vectors
        }
    }

    func chunks(_ ids: [Int64]) throws(SearchError) -> [Int64: (chunk: StoredChunk, textHash: Int64)] {
        guard !ids.isEmpty else { return [:] }
        let logger = logger
        return try read { connection in
            var result: [Int64: (chunk: StoredChunk, textHash: Int64)] = [:]
            let query: PostgresQuery = "SELECT id, path, start_line, end_line, title, body, text_hash FROM gemma_chunks WHERE id = ANY(\(ids))"
            for try await row in try await connection.query(query, logger: logger).decode((Int64, String, Int32, Int32, String?, String, Int64).self) {
                let chunk = StoredChunk(id: row.0, path: row.1, startLine: Int(row.2), endLine: Int(row.3), title: row.4, text: row.5)
                result[row.0] = (chunk, row.6)
            }
            return result
        }
    }

    func phraseMatches(_ terms: [String], limit: Int) throws(SearchError) -> (ids: [Int64], total: Int) {
        guard let phrase = PostgresTerms.phrase(terms) else { return ([], 0) }
        let logger = logger
        return try read { connection in
            var ids: [Int64] = []
            var total = 0
            let query: PostgresQuery = """
                SELECT id, count(*) OVER () FROM gemma_chunks WHERE terms @@ \(phrase)::tsquery
                ORDER BY ts_rank(terms, \(phrase)::tsquery) DESC, id LIMIT \(limit)
                """
            for try await (id, count) in try await connection.query(query, logger: logger).decode((Int64, Int64).self) {
                ids.append(id)
                total = Int(count)
            }
            return (ids, total)
        }
    }
}
