import EmbeddingGemma
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
        // Sign bits pick the candidates; their float32 vectors score them exactly.
        let rows = snapshot.matrix.candidates(query, count: max(candidates, limit), allowed: allowed)
        let candidateIds = rows.map { snapshot.matrix.chunkIds[$0] }
        let extraIds = extra.filter { id in snapshot.rowByChunk[id].map { allowed?[$0] ?? true } ?? false }
        let vectors = try vectors(Array(Set(candidateIds + extraIds)))
        func cosine(_ id: Int64) -> Float? {
            guard let vector = vectors[id], vector.count == query.count else { return nil }
            return VectorMath.cosine(vector, query)
        }
        var nearest = candidateIds.compactMap { id in cosine(id).map { (id: id, score: $0) } }
        nearest.sort { $0.score != $1.score ? $0.score > $1.score : $0.id < $1.id }
        var scored: [Int64: Float] = [:]
        for id in extraIds { scored[id] = cosine(id) }
        return DenseCandidates(nearest: Array(nearest.prefix(limit)), scored: scored, chunkCount: snapshot.matrix.count)
    }

    // MARK: Vectors and text

    /// Every chunk's sign code, in chunk id order, with the generation it was read at.
    func loadVectors(dimensions: Int) throws(SearchError) -> (VectorMatrix, fileIds: [Int64], generation: Int64) {
        try read { db in
            var matrix = VectorMatrix(dimensions: dimensions)
            var fileIds: [Int64] = []
            let generation = try Int64.fetchOne(db, sql: "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'generation'") ?? 0
            let rows = try Row.fetchCursor(db, sql: "SELECT id, file_id, signs FROM chunk_signs ORDER BY id")
            let bytes = matrix.words * 8
            while let row = try rows.next() {
                // The blob read in place (no copy per row): this loop is a cold search's largest cost.
                let fits = try row.withUnsafeData(atIndex: 2) { data -> Bool in
                    guard let data, data.count == bytes else { return false }
                    matrix.appendSigns(chunkId: row[0], littleEndianBytes: data)
                    return true
                }
                guard fits else { throw SearchError.indexCorrupt(path: path, reason: "a stored vector does not have \(dimensions) dimensions") }
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
        // One pass: ranking by BM25 visits every match anyway, so the count comes with it.
        return try read { db in
            var ids: [Int64] = []
            var total = 0
            let rows = try Int64.fetchCursor(db, sql: "SELECT rowid FROM chunk_text WHERE chunk_text MATCH ? ORDER BY rank", arguments: [phrase])
            while let id = try rows.next() {
                if total < limit { ids.append(id) }
                total += 1
            }
            return (ids, total)
        }
    }

    // MARK: Statistics

    /// Files, chunks and tokens, and the bytes of the file and its write-ahead log.
    func counts() throws(SearchError) -> IndexCounts {
        var counts = try read { db in
            let files = try Int.fetchOne(db, sql: "SELECT count(*) FROM files WHERE skipped IS NULL") ?? 0
            let skipped = try Int.fetchOne(db, sql: "SELECT count(*) FROM files WHERE skipped IS NOT NULL") ?? 0
            let chunks = try Int.fetchOne(db, sql: "SELECT count(*) FROM chunk_signs") ?? 0
            let tokens = try Int.fetchOne(db, sql: "SELECT coalesce(sum(tokens), 0) FROM chunk_signs") ?? 0
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
