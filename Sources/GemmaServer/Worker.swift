import Foundation

/// One thread that runs its owner's queued work, one job at a time, under one condition variable.
///
/// The owner keeps its queue under ``withLock(_:)`` and calls ``signal()`` after adding work.
/// The thread asks the owner's `next` closure, with the lock held, for the next job: it gets a
/// closure to run with the lock released, or nil when there is nothing to run yet (then the thread
/// waits for a signal; `next` may also wait on ``wait(until:)`` itself, for company). After
/// ``stop()``, jobs still queued are run, and the thread ends once `next` finds nothing.
final class Worker: @unchecked Sendable {
    private let condition = NSCondition()
    private var running = true

    private let name: String

    /// A worker whose thread starts with ``start(next:)``.
    /// - Parameter name: the thread's name, as debuggers and `top -H` show it.
    init(name: String) {
        self.name = name
    }

    /// Starts the thread (once).
    /// - Parameter next: the next job, or nil for none yet; called with the lock held.
    func start(next: @escaping @Sendable () -> (@Sendable () -> Void)?) {
        let thread = Thread { [self] in self.loop(next) }
        thread.name = name
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Whether ``stop()`` has not been called (read with the lock held, inside `next` or ``withLock(_:)``).
    var isRunning: Bool { running }

    /// Runs `body` with the lock held.
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        condition.lock()
        defer { condition.unlock() }
        return try body()
    }

    /// Wakes the thread after work was queued or the queue's state changed (call with the lock held).
    func signal() {
        condition.broadcast()
    }

    /// Waits (the lock held, as in `next`) until signalled or until `deadline`.
    func wait(until deadline: ContinuousClock.Instant) {
        let now = ContinuousClock.now
        guard deadline > now else { return }
        _ = condition.wait(until: Date().addingTimeInterval(now.duration(to: deadline) / .seconds(1)))
    }

    /// Stops taking new work once what is queued is done.
    func stop() {
        condition.lock()
        running = false
        condition.broadcast()
        condition.unlock()
    }

    private func loop(_ next: @Sendable () -> (@Sendable () -> Void)?) {
        while true {
            condition.lock()
            var job = next()
            while job == nil {
                guard running else {
                    condition.unlock()
                    return
                }
                condition.wait()
                job = next()
            }
            condition.unlock()
            job?()
        }
    }
}
