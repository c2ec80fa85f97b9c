import Foundation

/// The index's sign codes in memory, read once and read again only when another process has
/// written to the index since. Writes of this process update it in place (the rows of removed
/// chunks dropped, new ones appended), so searches during a long update never reload the whole
/// first stage. Safe to share between tasks.
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

    /// What one write of this process changed.
    struct Delta: Sendable {
        /// The generation the write started from and the one it made.
        var from: Int64
        var to: Int64
        var removed: [Int64] = []
        var added: [(chunkId: Int64, fileId: Int64, signs: [UInt64])] = []
    }

    private let lock = NSLock()
    /// Held while the whole first stage is read, so that tasks needing it at once read it once.
    private let loadLock = NSLock()
    private var snapshot: Snapshot?
    /// Writes of this process in flight: meanwhile a search keeps the snapshot it has.
    private var writing = 0
    /// Times the whole first stage was read from the index (for tests).
    private(set) var loads = 0

    /// The vectors as of the index's current generation.
    func current(_ store: SQLiteIndexStore, dimensions: Int) throws(SearchError) -> Snapshot {
        let generation = try store.generation()
        if let kept = usable(generation: generation, dimensions: dimensions) { return kept }
        loadLock.lock()
        defer { loadLock.unlock() }
        if let kept = usable(generation: generation, dimensions: dimensions) { return kept }  // loaded meanwhile
        let (matrix, fileIds, loadedGeneration) = try store.loadVectors(dimensions: dimensions)
        var rows: [Int64: Int] = [:]
        rows.reserveCapacity(matrix.count)
        for (row, id) in matrix.chunkIds.enumerated() { rows[id] = row }
        let loaded = Snapshot(matrix: matrix, fileIds: fileIds, rowByChunk: rows, generation: loadedGeneration)
        lock.lock()
        loads += 1
        if (snapshot?.generation ?? -1) < loadedGeneration || snapshot?.matrix.dimensions != dimensions { snapshot = loaded }
        lock.unlock()
        return loaded
    }

    /// Reads the first stage on another thread (a search that needs it meanwhile waits for it
    /// rather than reading it again).
    func prefetch(_ store: SQLiteIndexStore, dimensions: Int) {
        DispatchQueue.global(qos: .userInitiated).async { [self] in
            _ = try? current(store, dimensions: dimensions)
        }
    }

    /// The snapshot, when it is of `generation` (or this process is writing) and `dimensions`.
    private func usable(generation: Int64, dimensions: Int) -> Snapshot? {
        lock.withLock {
            guard let snapshot, snapshot.matrix.dimensions == dimensions, snapshot.generation == generation || writing > 0 else { return nil }
            return snapshot
        }
    }

    /// Runs one write of this process and applies what it changed to the snapshot (or drops the
    /// snapshot when the write fails or another process wrote in between).
    func write<T>(_ body: () throws(SearchError) -> (T, Delta?)) throws(SearchError) -> T {
        lock.withLock { writing += 1 }
        defer { lock.withLock { writing -= 1 } }
        do {
            let (value, delta) = try body()
            lock.withLock {
                guard let delta else { return }
                guard var current = snapshot, current.generation == delta.from else {
                    snapshot = nil
                    return
                }
                Self.apply(delta, to: &current)
                snapshot = current
            }
            return value
        } catch {
            lock.withLock { snapshot = nil }
            throw error
        }
    }

    private static func apply(_ delta: Delta, to snapshot: inout Snapshot) {
        let removedRows = Set(delta.removed.compactMap { snapshot.rowByChunk[$0] })
        if !removedRows.isEmpty {
            var matrix = VectorMatrix(dimensions: snapshot.matrix.dimensions)
            var fileIds: [Int64] = []
            fileIds.reserveCapacity(snapshot.fileIds.count - removedRows.count)
            let words = matrix.words
            snapshot.matrix.signs.withUnsafeBufferPointer { signs in
                for row in 0..<snapshot.matrix.count where !removedRows.contains(row) {
                    matrix.append(chunkId: snapshot.matrix.chunkIds[row], signs: Array(signs[(row * words)..<((row + 1) * words)]))
                    fileIds.append(snapshot.fileIds[row])
                }
            }
            snapshot.matrix = matrix
            snapshot.fileIds = fileIds
            snapshot.rowByChunk = [:]
            for (row, id) in matrix.chunkIds.enumerated() { snapshot.rowByChunk[id] = row }
        }
        for entry in delta.added where entry.signs.count == snapshot.matrix.words {
            snapshot.rowByChunk[entry.chunkId] = snapshot.matrix.count
            snapshot.matrix.append(chunkId: entry.chunkId, signs: entry.signs)
            snapshot.fileIds.append(entry.fileId)
        }
        snapshot.generation = delta.to
    }
}
