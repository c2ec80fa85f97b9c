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
