import Foundation

/// Which of two things came first: the awaited one (a connection from the pool, work that
/// ended) or what gives up on it (a timeout, the connection closing).
final class PostgresRace: @unchecked Sendable {
    private let lock = NSLock()
    private var outcome: Bool?
    private var waiter: CheckedContinuation<Bool, Never>?

    /// Records the first outcome (true: the awaited thing; false: giving up) and wakes the waiter;
    /// returns whether this outcome was the first (a lease that lost to the timeout must not work).
    func finish(_ value: Bool) -> Bool {
        lock.lock()
        guard outcome == nil else {
            lock.unlock()
            return false
        }
        outcome = value
        let waiting = waiter
        waiter = nil
        lock.unlock()
        waiting?.resume(returning: value)
        return true
    }

    /// The first outcome, once there is one.
    func wait() async -> Bool {
        await withCheckedContinuation { continuation in
            lock.lock()
            if let outcome {
                lock.unlock()
                continuation.resume(returning: outcome)
                return
            }
            waiter = continuation
            lock.unlock()
        }
    }

    /// Runs `work` in a task of its own against what gives up on it: `work` is handed the race
    /// and wins it when it ends (or earlier, by finishing it itself); `giveUp` is started with the
    /// race, finishes it with false when it gives up, and returns how to stop it. When `work` loses,
    /// its task is cancelled and left behind, and `lost` is thrown.
    static func run<T: Sendable>(lost: some Error, _ work: @escaping @Sendable (PostgresRace) async throws -> T,
                                 giveUp: (PostgresRace) -> () -> Void) async throws -> T {
        let race = PostgresRace()
        let task = PostgresTasks.detachedThrowing { () async throws -> T in
            defer { _ = race.finish(true) }
            return try await work(race)
        }
        let stop = giveUp(race)
        let won = await race.wait()
        stop()
        guard won else {
            task.cancel()
            throw lost
        }
        return try await task.value
    }
}
