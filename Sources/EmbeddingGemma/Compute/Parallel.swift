import Dispatch

/// Splits work over rows across the machine's cores.
enum Parallel {
    /// Number of threads every parallel step uses: `$EMBEDDINGGEMMA_THREADS` if set, else the
    /// number of online processors.
    static let threadCount: Int = {
        if let value = getenv("EMBEDDINGGEMMA_THREADS").flatMap({ Int(String(cString: $0)) }), value > 0 {
            return min(value, 256)
        }
        return max(1, min(onlineProcessorCount(), 256))
    }()

    /// Calls `body(range)` on disjoint chunks of `0..<count`, in parallel when there is enough work.
    /// `grain` is the smallest chunk worth a thread.
    static func forEachChunk(_ count: Int, grain: Int, _ body: (Range<Int>) -> Void) {
        let chunks = min(threadCount, max(1, count / max(grain, 1)))
        if chunks <= 1 {
            body(0..<count)
            return
        }
        let per = (count + chunks - 1) / chunks
        withoutActuallyEscaping(body) { escapable in
            // The chunks are disjoint and concurrentPerform returns only when all are done,
            // so sharing the closure (and the buffers it captures) is safe.
            let shared = UncheckedSendable(escapable)
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let start = c * per
                let end = min(count, start + per)
                if start < end { shared.value(start..<end) }
            }
        }
    }
}

/// Carries a value across a concurrency boundary the caller has proven safe.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

#if canImport(Glibc)
import Glibc
private func onlineProcessorCount() -> Int { Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) }
#elseif canImport(Darwin)
import Darwin
private func onlineProcessorCount() -> Int { Int(sysconf(_SC_NPROCESSORS_ONLN)) }
#else
private func onlineProcessorCount() -> Int { 1 }
#endif
