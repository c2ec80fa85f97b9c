import CEmbeddingGemmaKernels
import Foundation
import Testing

/// The kernel target's thread pool (`eg_pool_run`): every task runs exactly once, whether jobs come
/// back to back (the workers spinning), after the workers fell asleep, from several threads at
/// once, or from inside another job's task.
@Suite("Thread pool")
struct PoolTests {
    /// Adds 1 to slot `index` of the Int buffer at `context`.
    static let count: eg_pool_task = { context, index in
        context!.assumingMemoryBound(to: Int.self)[Int(index)] += 1
    }

    /// Runs one job of `tasks` tasks and returns how often each ran.
    static func run(_ tasks: Int) -> [Int] {
        var slots = [Int](repeating: 0, count: tasks)
        slots.withUnsafeMutableBufferPointer { eg_pool_run(Int32(tasks), count, $0.baseAddress) }
        return slots
    }

    @Test("back-to-back jobs and a job after the workers slept run each task once")
    func everyTaskOnce() {
        #expect(eg_pool_start(2) >= 1)
        for job in 0..<2000 {
            let tasks = 2 + job % 7
            let slots = Self.run(tasks)
            #expect(slots == [Int](repeating: 1, count: tasks), "job \(job)")
            if slots != [Int](repeating: 1, count: tasks) { break }
        }
        // Past the spinning time the workers sleep; a job must wake them (or run here).
        Thread.sleep(forTimeInterval: 0.05)
        #expect(Self.run(16) == [Int](repeating: 1, count: 16))
    }

    @Test("jobs from several threads at once and from inside a task run each task once")
    func concurrentAndNested() {
        #expect(eg_pool_start(2) >= 1)
        let failures = UnsafeMutablePointer<Int>.allocate(capacity: 4)
        failures.initialize(repeating: 0, count: 4)
        defer { failures.deallocate() }
        let shared = UnsafeSendablePointer(failures)
        DispatchQueue.concurrentPerform(iterations: 4) { thread in
            for job in 0..<500 where PoolTests.run(2 + (job + thread) % 5) != [Int](repeating: 1, count: 2 + (job + thread) % 5) {
                shared.pointer[thread] += 1
            }
        }
        #expect((0..<4).map { failures[$0] } == [0, 0, 0, 0])

        // Each outer task runs an inner job of 3 tasks and records it in its own slot.
        var outer = [Int](repeating: 0, count: 4)
        outer.withUnsafeMutableBufferPointer { buffer in
            eg_pool_run(4, { context, index in
                let inner = PoolTests.run(3)
                context!.assumingMemoryBound(to: Int.self)[Int(index)] = inner == [1, 1, 1] ? 1 : -1
            }, buffer.baseAddress)
        }
        #expect(outer == [1, 1, 1, 1])
    }
}

/// A pointer the test shares between threads that write disjoint slots.
private struct UnsafeSendablePointer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Int>
    init(_ pointer: UnsafeMutablePointer<Int>) { self.pointer = pointer }
}
