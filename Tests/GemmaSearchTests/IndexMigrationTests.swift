import EmbeddingGemma
import EmbeddingGemmaTestSupport
import Foundation
import GRDB
import Testing
@testable import GemmaSearch

/// An index written by the previous schema (sign bits, int8 codes and scale in each chunk row)
/// opens, migrates in one transaction and searches as before.
@Suite("Index schema migration")
struct IndexMigrationTests {
    @Test("a v1 index (codes in the chunk rows) gets its sign table and finds the same hits")
    func migratesV1() throws {
        let (index, root) = try SemanticIndexTests.newIndex()
        try index.update([root], options: SemanticIndexTests.options)
        let before = try index.search("abc hi", limit: 5)
        #expect(!before.isEmpty)
        // Turn the file back into what the previous version wrote.
        let queue = try DatabaseQueue(path: index.path)
        try queue.write { db in
            for row in try Row.fetchAll(db, sql: "SELECT id, signs FROM chunk_signs") {
                let signs: Data = row[1]
                try db.execute(sql: "UPDATE chunks SET signs = ?, codes = zeroblob(?), scale = 1 WHERE id = ?",
                               arguments: [signs, index.metadata.dimensions, row[0]])
            }
            try db.execute(sql: "DROP TABLE chunk_signs; DELETE FROM grdb_migrations WHERE identifier = 'v2-sign-table'")
        }
        try queue.close()
        let reopened = try SemanticIndex.open(path: index.path, model: SemanticIndexTests.model)
        let after = try reopened.search("abc hi", limit: 5)
        #expect(after.map(\.path) == before.map(\.path))
        #expect(zip(after, before).allSatisfy { abs($0.score - $1.score) < 1e-6 })
        // Updates after the migration keep both tables in step.
        try "new words abc\n".write(toFile: root + "/added.txt", atomically: true, encoding: .utf8)
        try reopened.update([root], options: SemanticIndexTests.options)
        let check = try DatabaseQueue(path: index.path)
        let (chunks, signs) = try check.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM chunks") ?? -1, try Int.fetchOne(db, sql: "SELECT count(*) FROM chunk_signs") ?? -2)
        }
        let stored = try reopened.statistics().chunks
        #expect(chunks == signs && chunks == stored && stored > 0)
    }
}

/// The in-memory first stage follows this process's writes without reading the index again.
@Suite("First stage kept current in memory")
struct VectorCacheTests {
    @Test("after adds, changes and removals the cache equals a fresh load, and was loaded once")
    func followsWrites() throws {
        let (index, root) = try SemanticIndexTests.newIndex()
        try index.update([root], options: SemanticIndexTests.options)
        let store = try #require(index.store as? SQLiteIndexStore)
        _ = try index.search("abc", limit: 3)
        #expect(store.cache.loads == 1)
        try "brand new file words\n".write(toFile: root + "/new.txt", atomically: true, encoding: .utf8)
        try "# Beta\nchanged text now\n".write(toFile: root + "/notes/beta.md", atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: root + "/gamma.txt")
        try index.update([root], options: SemanticIndexTests.options)
        let hits = try index.search("brand new file words", limit: 3, lexicalWeight: 5)
        #expect(hits.first?.path == root + "/new.txt")
        #expect(store.cache.loads == 1, "no reload after this process's own writes")
        let kept = try store.cache.current(store, dimensions: index.metadata.dimensions)
        let fresh = try store.loadVectors(dimensions: index.metadata.dimensions)
        #expect(kept.matrix.chunkIds.sorted() == fresh.0.chunkIds)
        var keptSigns: [Int64: [UInt64]] = [:], freshSigns: [Int64: [UInt64]] = [:]
        let words = kept.matrix.words
        for (row, id) in kept.matrix.chunkIds.enumerated() { keptSigns[id] = Array(kept.matrix.signs[(row * words)..<((row + 1) * words)]) }
        for (row, id) in fresh.0.chunkIds.enumerated() { freshSigns[id] = Array(fresh.0.signs[(row * words)..<((row + 1) * words)]) }
        #expect(keptSigns == freshSigns)
        #expect(kept.generation == fresh.generation)
        // Another process's write (here: another store on the same file) makes it read again.
        let other = try SemanticIndex.open(path: index.path, model: SemanticIndexTests.model)
        try other.remove([root + "/new.txt"])
        #expect(try index.search("brand new file words", limit: 3, lexicalWeight: 5).first?.path != root + "/new.txt")
        #expect(store.cache.loads == 2)
    }
}
