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
}
