import Foundation

/// The index's vectors in memory, read once and read again only when the index has changed
/// since (another process or task wrote to it). Safe to share between tasks.
final class VectorCache: @unchecked Sendable {
    /// One loaded state of the index's vectors.
    struct Snapshot: Sendable {
        var matrix: VectorMatrix
        /// File id of each row.
        var fileIds: [Int64]
        /// Row of each chunk id.
        var rowByChunk: [Int64: Int]
        var generation: Int64
    }

    private let lock = NSLock()
    private var snapshot: Snapshot?

    /// The vectors as of the index's current generation.
    func current(_ store: SQLiteIndexStore, dimensions: Int) throws(SearchError) -> Snapshot {
        let generation = try store.generation()
        lock.lock()
        if let snapshot, snapshot.generation == generation {
            lock.unlock()
            return snapshot
        }
        lock.unlock()
        let (matrix, fileIds, loadedGeneration) = try store.loadVectors(dimensions: dimensions)
        var rows: [Int64: Int] = [:]
        rows.reserveCapacity(matrix.count)
        for (row, id) in matrix.chunkIds.enumerated() { rows[id] = row }
        let loaded = Snapshot(matrix: matrix, fileIds: fileIds, rowByChunk: rows, generation: loadedGeneration)
        lock.lock()
        if (snapshot?.generation ?? -1) < loadedGeneration { snapshot = loaded }
        lock.unlock()
        return loaded
    }
}
