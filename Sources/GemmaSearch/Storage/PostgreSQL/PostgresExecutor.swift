import Foundation

/// Threads of their own for the PostgreSQL store's async work.
///
/// The index's API is synchronous, so a caller's thread waits while the store's tasks run. When
/// that caller is itself a task on Swift's cooperative pool (one thread per core: two on a
/// two-core machine), enough such waits at once would leave no thread to run the tasks they
/// wait for. The store's tasks therefore prefer this executor (SE-0417 task executors): their
/// jobs, and those of the actors they call, run on these threads whatever the pool is doing.
@available(macOS 15, iOS 18, tvOS 18, watchOS 11, *)
final class PostgresExecutor: TaskExecutor, @unchecked Sendable {
    /// The one executor of the process (its threads live as long as the process).
    static let shared = PostgresExecutor(threads: 2)

    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []

    init(threads: Int) {
        for number in 0..<threads {
            let thread = Thread { [unowned self] in self.work() }
            thread.name = "GemmaSearch.postgres.\(number)"
            thread.start()
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}

/// Where the PostgreSQL store's tasks run.
enum PostgresTasks {
    /// Starts `operation` in a task that prefers these threads (where the platform has task
    /// executors; elsewhere a detached task).
    @discardableResult
    static func detached<T: Sendable>(_ operation: @escaping @Sendable () async -> T) -> Task<T, Never> {
        if #available(macOS 15, iOS 18, tvOS 18, watchOS 11, *) {
            return Task.detached(executorPreference: PostgresExecutor.shared, operation: operation)
        }
        return Task.detached(operation: operation)
    }

    /// A throwing task that prefers these threads.
    static func detachedThrowing<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) -> Task<T, any Error> {
        if #available(macOS 15, iOS 18, tvOS 18, watchOS 11, *) {
            return Task.detached(executorPreference: PostgresExecutor.shared, operation: operation)
        }
        return Task.detached(operation: operation)
    }
}
