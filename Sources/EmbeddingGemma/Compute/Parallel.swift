import CEmbeddingGemmaKernels

/// Splits work over rows across the machine's cores, on the kernel target's thread pool (workers
/// that stay awake between the short steps of generating a token; see `eg_pool_run`).
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
        _ = startPool
        withoutActuallyEscaping(body) { escapable in
            // The chunks are disjoint and eg_pool_run returns only when all are done, so handing
            // the closure (and the buffers it captures) to the pool's threads is safe.
            var job = Job(body: escapable, count: count, per: per)
            withUnsafeMutablePointer(to: &job) { pointer in
                eg_pool_run(Int32(chunks), { context, chunk in
                    guard let job = context?.assumingMemoryBound(to: Job.self).pointee else { return }
                    let start = Int(chunk) * job.per
                    let end = min(job.count, start + job.per)
                    if start < end { job.body(start..<end) }
                }, pointer)
            }
        }
    }

    /// What the pool's tasks need: the body and how `0..<count` is cut.
    private struct Job {
        let body: (Range<Int>) -> Void
        let count: Int
        let per: Int
    }

    /// Starts the pool's worker threads once (``threadCount`` − 1 of them).
    private static let startPool: Void = {
        _ = eg_pool_start(Int32(threadCount))
    }()
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
