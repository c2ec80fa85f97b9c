import GemmaSearch
import NIOCore
import NIOPosix

/// The threads the server runs its blocking index calls on (searches, the index's status,
/// previews), off the event loops and off Swift's cooperative threads.
///
/// Not the global dispatch queue: on Linux it runs no more jobs at once than there are cores, so
/// while the database is away a few searches, each waiting up to the PostgreSQL URL's `wait` for it
/// to come back, would hold every thread, and the requests behind them would queue for the sum of
/// their waits. A call here mostly waits (for PostgreSQL, or for SQLite's lock), so there are
/// many threads, enough for the server's concurrent requests to wait side by side.
enum IndexThreads {
    /// How many calls can run at once: 64, or 4 a core on larger machines.
    static let count = max(64, 4 * System.coreCount)

    /// The pool, started at first use and kept for the life of the process.
    static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: count)
        pool.start()
        return pool
    }()

    /// Runs `work` on one of the pool's threads and returns its result. Once queued, the work runs
    /// even if the request is cancelled meanwhile (an index call is short, and the store's own
    /// deadlines bound it).
    static func run<T: Sendable>(_ work: @escaping @Sendable () throws(SearchError) -> T) async -> Result<T, SearchError> {
        let future = pool.runIfActive(eventLoop: MultiThreadedEventLoopGroup.singleton.any()) {
            Result { () throws(SearchError) in try work() }
        }
        do {
            return try await future.get()
        } catch {
            // Only a pool that was shut down refuses work, and this one never is.
            return .failure(.storage("the server's index threads are stopped: \(error)"))
        }
    }
}
