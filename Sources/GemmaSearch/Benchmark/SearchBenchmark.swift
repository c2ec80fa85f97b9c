import Foundation

/// Search latency, recall and footprint on a ``SyntheticIndex``: warm searches with the
/// queries' vectors given (the query's embedding is measured apart), recall@10 of the
/// index's search against the exact float32 nearest neighbours of every chunk, the index's
/// bytes per chunk and the memory the process holds.
public enum SearchBenchmark {
    /// What one run measured.
    public struct Result: Sendable {
        public var chunks: Int
        public var bytesOnDisk: Int64
        /// The first search, which loads the in-memory first stage (milliseconds).
        public var firstSearch: Double
        /// Warm searches (milliseconds).
        public var p50: Double
        public var p99: Double
        public var mean: Double
        public var queries: Int
        /// Share of the exact 10 nearest chunks among the 10 results, averaged over ``recallQueries``.
        public var recallAt10: Double
        public var recallQueries: Int
        /// Resident memory of the process after the searches (bytes; 0 where unknown).
        public var residentBytes: Int64
    }

    /// Runs `queries` warm searches (after one that loads) and the recall check.
    /// - Parameter lexical: whether searches also look the query's words up in the full-text index.
    public static func run(index: SemanticIndex, synthetic: SyntheticIndex, queries: Int = 200, recallQueries: Int = 50,
                           lexical: Bool = true) throws(SearchError) -> Result {
        let statistics = try index.statistics()
        let clock = ContinuousClock()
        let weight: Float = lexical ? SemanticIndex.exactMatchWeight : 0
        var start = clock.now
        _ = try index.search(synthetic.queryText(0), vector: synthetic.vectors.query(0), limit: 10, lexicalWeight: weight)
        let first = start.duration(to: clock.now)
        var times: [Double] = []
        for n in 1...max(1, queries) {
            let vector = synthetic.vectors.query(n), text = synthetic.queryText(n)
            start = clock.now
            _ = try index.search(text, vector: vector, limit: 10, lexicalWeight: weight)
            times.append(start.duration(to: clock.now) / .milliseconds(1))
        }
        times.sort()
        let recallCount = max(1, recallQueries)
        let exact = exactNearest(synthetic.vectors, queries: (0..<recallCount).map { synthetic.vectors.query(10_000 + $0) }, k: 10)
        var found = 0
        for (n, truth) in exact.enumerated() {
            let hits = try index.search(synthetic.queryText(10_000 + n), vector: synthetic.vectors.query(10_000 + n), limit: 10, lexicalWeight: 0)
            found += Set(hits.compactMap(synthetic.chunkNumber)).intersection(truth).count
        }
        return Result(chunks: statistics.chunks, bytesOnDisk: statistics.bytesOnDisk, firstSearch: first / .milliseconds(1),
                      p50: times[times.count / 2], p99: times[min(times.count - 1, Int(Double(times.count) * 0.99))],
                      mean: times.reduce(0, +) / Double(times.count), queries: times.count,
                      recallAt10: Double(found) / Double(10 * recallCount), recallQueries: recallCount, residentBytes: residentBytes())
    }

    /// Searches per second with `clients` threads searching at once for about `seconds`
    /// (query vectors given, phrase lookup included when `lexical`).
    public static func throughput(index: SemanticIndex, synthetic: SyntheticIndex, clients: Int, seconds: Double = 10,
                                  lexical: Bool = true) throws(SearchError) -> Double {
        let weight: Float = lexical ? SemanticIndex.exactMatchWeight : 0
        let counts = LockedValue([Int](repeating: 0, count: clients))
        let failure = LockedValue<SearchError?>(nil)
        let clock = ContinuousClock()
        let start = clock.now
        let end = start + .milliseconds(Int(seconds * 1000))
        DispatchQueue.concurrentPerform(iterations: clients) { client in
            var n = 0
            while clock.now < end, failure.value == nil {
                let number = 20_000 + client * 100_000 + n
                do {
                    _ = try index.search(synthetic.queryText(number), vector: synthetic.vectors.query(number), limit: 10, lexicalWeight: weight)
                } catch let error as SearchError {
                    failure.value = error
                } catch {
                    failure.value = .storage("\(error)")
                }
                n += 1
            }
            counts.update { $0[client] = n }
        }
        if let error = failure.value { throw error }
        return Double(counts.value.reduce(0, +)) / (start.duration(to: clock.now) / .seconds(1))
    }

    /// The `k` chunk numbers nearest to each query by exact cosine, every vector made again from
    /// its number (on all cores).
    static func exactNearest(_ vectors: SyntheticVectors, queries: [[Float]], k: Int) -> [Set<Int>] {
        let parts = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let best = Collected(count: queries.count)
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            var local = Array(repeating: TopScores(capacity: k), count: queries.count)
            var n = part
            while n < vectors.count {
                let vector = vectors.vector(n)
                for (q, query) in queries.enumerated() {
                    var dot: Float = 0
                    for i in 0..<vector.count { dot += vector[i] * query[i] }
                    local[q].offer(n, dot)
                }
                n += parts
            }
            best.add(local.map { $0.entries.map { (score: $0.score, n: $0.row) } })
        }
        return best.all.map { Set($0.sorted { $0.score > $1.score }.prefix(k).map(\.n)) }
    }

    /// Per-query candidates gathered from several threads.
    private final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private var lists: [[(score: Float, n: Int)]]
        init(count: Int) { lists = Array(repeating: [], count: count) }
        func add(_ parts: [[(score: Float, n: Int)]]) {
            lock.withLock { for (q, part) in parts.enumerated() { lists[q] += part } }
        }
        var all: [[(score: Float, n: Int)]] { lock.withLock { lists } }
    }

    /// The process's resident memory (Linux: /proc/self/statm), else 0.
    static func residentBytes() -> Int64 {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int64(fields[1]) else { return 0 }
        return pages * Int64(sysconf(Int32(_SC_PAGESIZE)))
    }
}
