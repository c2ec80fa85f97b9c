import Foundation
@testable import GemmaSearch

/// CPU-bound jobs on the default global dispatch queue, one per core, until stopped: the state a
/// loaded test run or server is in. On Linux that queue, Swift's cooperative pool and the wake-ups
/// of `Task.sleep` share their threads, and no new job starts there while this many run.
final class BusyGlobalQueue: Sendable {
    private let stopped = LockedValue(false)
    private let started = DispatchSemaphore(value: 0)
    private let group = DispatchGroup()
    let jobs = ProcessInfo.processInfo.activeProcessorCount

    /// Starts the jobs and waits (up to 10 s) until they all run; each stops by itself after `limit`.
    init(limit: Duration = .seconds(120)) {
        for _ in 0..<jobs {
            DispatchQueue.global().async(group: group) { [stopped, started] in
                started.signal()
                let end = ContinuousClock.now + limit
                var sum = 0.0
                while !stopped.value, ContinuousClock.now < end {
                    for i in 0..<10_000 { sum += Double(i).squareRoot() }
                }
                if sum < 0 { print(sum) }
            }
        }
        let deadline = DispatchTime.now() + 10
        for _ in 0..<jobs { _ = started.wait(timeout: deadline) }
    }

    /// Stops the jobs and waits until they have ended.
    func stop() {
        stopped.value = true
        group.wait()
    }
}
