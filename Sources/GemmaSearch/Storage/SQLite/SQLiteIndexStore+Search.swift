import Foundation
import GRDB

/// Reading for search: the first stage of dense search over the vectors in memory, exact vectors,
/// chunk details, phrase matches and counts.
extension SQLiteIndexStore {
    // MARK: Dense candidates

    func denseCandidates(for query: [Float], limit: Int, candidates: Int, under prefix: String?,
                         scoring extra: [Int64]) throws(SearchError) -> DenseCandidates {
        let snapshot = try cache.current(self, dimensions: query.count)
        guard snapshot.matrix.count > 0 else { return DenseCandidates(nearest: [], scored: [:], chunkCount: 0) }
        var allowed: [Bool]?
        if let prefix {
            let ids = try fileIds(under: prefix)
            allowed = snapshot.fileIds.map { ids.contains($0) }
        }
        // Sign bits pick `candidates` rows, int8 codes re-score them. Rows are in chunk id order.
        let nearest = snapshot.matrix.nearest(query, limit: limit, candidates: candidates, allowed: allowed).map {
            (id: snapshot.matrix.chunkIds[$0.row], score: $0.score)
        }
        var scored: [Int64: Float] = [:]
        query.withUnsafeBufferPointer { q in
            for id in extra {
                guard let row = snapshot.rowByChunk[id], allowed?[row] ?? true else { continue }
                scored[id] = snapshot.matrix.score(q, row: row)
            }
        }
        return DenseCandidates(nearest: nearest, scored: scored, chunkCount: snapshot.matrix.count)
    }

    // MARK: Vectors and text

    /// Every chunk's compressed vector, in chunk id order, with the generation it was read at.
    func loadVectors(dimensions: Int) throws(SearchError) -> (VectorMatrix, fileIds: [Int64], generation: Int64) {
        try read { db in
            var matrix = VectorMatrix(dimensions: dimensions)
            var fileIds: [Int64] = []
            let generation = try Int64.fetchOne(db, sql: "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'generation'") ?? 0
            let rows = try Row.fetchCursor(db, sql: "SELECT id, file_id, scale, signs, codes FROM chunks ORDER BY id")
            while let row = try rows.next() {
                let scale: Double = row[2]
                guard let code = VectorCode(signBytes: row[3], codeBytes: row[4], scale: Float(scale), dimensions: dimensions) else {
                    throw SearchError.indexCorrupt(path: path, reason: "a stored vector does not have \(dimensions) dimensions")
                }
                matrix.append(chunkId: row[0], code: code)
                fileIds.append(row[1])
            }
            return (matrix, fileIds, generation)
        }
    }

    /// The float32 vectors of `ids` (for the exact final ordering).
    func vectors(_ ids: [Int64]) throws(SearchError) -> [Int64: [Float]] {
        guard !ids.isEmpty else { return [:] }
        return try read { db in
            var vectors: [Int64: [Float]] = [:]
            let list = ids.map(String.init).joined(separator: ",")
            for row in try Row.fetchAll(db, sql: "SELECT id, vector FROM chunks WHERE id IN (\(list))") {
                let data: Data = row[1]
                vectors[row[0]] = Self.floats(data)
            }
            return vectors
        }
    }

    /// Path, lines, title, text hash and text of chunks.
    func chunks(_ ids: [Int64]) throws(SearchError) -> [Int64: (chunk: StoredChunk, textHash: Int64)] {
        guard !ids.isEmpty else { return [:] }
        return try read { db in
            var result: [Int64: (StoredChunk, Int64)] = [:]
            let list = ids.map(String.init).joined(separator: ",")
            let sql = """
                SELECT c.id, f.path, c.start_line, c.end_line, c.title, t.text, c.text_hash
                FROM chunks c JOIN files f ON f.id = c.file_id JOIN chunk_text t ON t.rowid = c.id
                WHERE c.id IN (\(list))
                """
            for row in try Row.fetchAll(db, sql: sql) {
                let chunk = StoredChunk(id: row[0], path: row[1], startLine: row[2], endLine: row[3], title: row[4], text: row[5])
                result[chunk.id] = (chunk, row[6])
            }
            return result
        }
    }

    /// Chunks whose text holds `terms` one after another (an FTS5 phrase), the best BM25 first,
    /// at most `limit`, and how many chunks hold it in all.
    func phraseMatches(_ terms: [String], limit: Int) throws(SearchError) -> (ids: [Int64], total: Int) {
        guard !terms.isEmpty else { return ([], 0) }
        let phrase = "\"" + terms.map { $0.replacingOccurrences(of: "\"", with: "\"\"") }.joined(separator: " ") + "\""
        return try read { db in
            let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM chunk_text WHERE chunk_text MATCH ?", arguments: [phrase]) ?? 0
            guard total > 0 else { return ([], 0) }
            let ids = try Int64.fetchAll(db, sql: "SELECT rowid FROM chunk_text WHERE chunk_text MATCH ? ORDER BY rank LIMIT ?",
                                         arguments: [phrase, limit])
            return (ids, total)
        }
    }

    // MARK: Statistics

    /// Files, chunks and tokens, and the bytes of the file and its write-ahead log.
    func counts() throws(SearchError) -> IndexCounts {
        var counts = try read { db in
            let files = try Int.fetchOne(db, sql: "SELECT count(*) FROM files WHERE skipped IS NULL") ?? 0
            let skipped = try Int.fetchOne(db, sql: "SELECT count(*) FROM files WHERE skipped IS NOT NULL") ?? 0
            let chunks = try Int.fetchOne(db, sql: "SELECT count(*) FROM chunks") ?? 0
            let tokens = try Int.fetchOne(db, sql: "SELECT coalesce(sum(token_count), 0) FROM chunks") ?? 0
            let updated = try Double.fetchOne(db, sql: "SELECT CAST(value AS REAL) FROM meta WHERE key = 'updated_at'")
            return IndexCounts(files: files, skipped: skipped, chunks: chunks, tokens: tokens, bytesOnDisk: 0,
                               lastChange: updated.map { Date(timeIntervalSince1970: $0) })
        }
        for suffix in ["", "-wal"] {
            if let attributes = try? FileManager.default.attributesOfItem(atPath: path + suffix),
               let size = attributes[.size] as? NSNumber {
                counts.bytesOnDisk += size.int64Value
            }
        }
        return counts
    }

    // MARK: Encoding

    /// A vector as little-endian float32 bytes.
    static func floatBytes(_ vector: [Float]) -> Data {
        var data = Data(capacity: vector.count * 4)
        for value in vector {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
        }
        return data
    }

    static func floats(_ data: Data) -> [Float] {
        data.withUnsafeBytes { raw in
            (0..<(raw.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }
}
