import NIOCore
import NIOPosix

/// The PostgreSQL store's timers, on SwiftNIO's event-loop threads.
///
/// `Task.sleep` (and postgres-nio's pool, whose back-off between connection attempts is a
/// `Task.sleep`) wakes through the default global dispatch queue. On Linux that queue shares its
/// threads with Swift's cooperative pool and `DispatchQueue.global()`, and starts no job there
/// while as many of their threads as there are cores are busy: in a loaded test run or server, a
/// one-second sleep was seen to last 198 s. The store's lease deadlines and pauses must fire
/// whatever that pool is doing, so they are scheduled on an event loop, whose threads only ever
/// wait for sockets and timers.
enum PostgresTimer {
    /// Calls `body` on an event-loop thread after `delay`, unless the returned handle is
    /// cancelled first.
    @discardableResult
    static func schedule(after delay: Duration, _ body: @escaping @Sendable () -> Void) -> Scheduled<Void> {
        MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: TimeAmount(delay)) { body() }
    }

    /// Suspends the calling task for `delay`. Not cut short by cancellation: the store's pauses
    /// are a second or less, and its loops check for cancellation after each.
    static func sleep(for delay: Duration) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            schedule(after: delay) { continuation.resume() }
        }
    }
}
