import EmbeddingGemma
import Foundation

/// Runs the server's text generations one at a time on a thread of their own, streaming each
/// one's text as it is decided.
///
/// A generation keeps a core busy for seconds, so requests wait in a short bounded queue (a
/// full queue is answered 503 with `Retry-After`) and a client that goes away stops its
/// generation at the next token.
public final class GenerationService: @unchecked Sendable {
    /// What a generation stream yields.
    public enum Event: Sendable {
        /// New text.
        case text(String)
        /// The generation ended; the counts and timings.
        case finished(GenerationResult)
    }

    private final class Job: @unchecked Sendable {
        let prompt: String
        let options: GenerationOptions
        let continuation: AsyncThrowingStream<Event, any Error>.Continuation
        let lock = NSLock()
        private var isCancelled = false

        init(prompt: String, options: GenerationOptions, continuation: AsyncThrowingStream<Event, any Error>.Continuation) {
            self.prompt = prompt
            self.options = options
            self.continuation = continuation
        }

        var cancelled: Bool {
            get { lock.withLock { isCancelled } }
            set { lock.withLock { isCancelled = newValue } }
        }
    }

    /// The model.
    public let generator: TextGenerator
    /// The name it is listed and answered under.
    public let name: String
    /// Most generations running or waiting at once.
    public let maxQueued: Int
    let metrics: ServerMetrics
    /// The thread that runs generations; its lock guards the queue and the count below.
    private let worker = Worker(name: "text-generation")
    private var queue: [Job] = []
    private var active = 0

    /// Starts the worker thread.
    public init(generator: TextGenerator, name: String = "gemma3", maxQueued: Int = 16, metrics: ServerMetrics = ServerMetrics()) {
        self.generator = generator
        self.name = name
        self.maxQueued = max(1, maxQueued)
        self.metrics = metrics
        worker.start { [weak self] in self?.nextJob() }
    }

    /// Queues a generation of `prompt` (already in the model's format) and returns its stream.
    /// Ending the stream's iteration early (a client that went away) stops the generation.
    /// - Throws: ``APIError`` 503 when ``maxQueued`` generations run or wait already, or after shutdown.
    func submit(_ prompt: String, options: GenerationOptions) throws(APIError) -> AsyncThrowingStream<Event, any Error> {
        let (stream, continuation) = AsyncThrowingStream<Event, any Error>.makeStream(bufferingPolicy: .unbounded)
        let job = Job(prompt: prompt, options: options, continuation: continuation)
        continuation.onTermination = { _ in job.cancelled = true }
        let refusal: APIError? = worker.withLock {
            guard worker.isRunning else { return APIError(.serviceUnavailable, "the server is shutting down", code: "shutting_down") }
            guard queue.count + active < maxQueued else {
                return APIError(.serviceUnavailable, "\(maxQueued) generations are running or waiting; retry shortly", code: "queue_full", retryAfter: 5)
            }
            queue.append(job)
            metrics.generationQueue.set(Double(queue.count + active))
            worker.signal()
            return nil
        }
        if let refusal { throw refusal }
        return stream
    }

    /// Stops the worker once the queued generations are done.
    public func shutdown() {
        worker.stop()
    }

    /// The next generation to run, or nil to wait (called by the worker with the lock held).
    private func nextJob() -> (@Sendable () -> Void)? {
        guard !queue.isEmpty else { return nil }
        let job = queue.removeFirst()
        active = 1
        return { [self] in
            run(job)
            worker.withLock {
                active = 0
                metrics.generationQueue.set(Double(queue.count))
            }
        }
    }

    private func run(_ job: Job) {
        guard !job.cancelled else {
            job.continuation.finish()
            return
        }
        let started = ContinuousClock.now
        do {
            let result = try generator.generate(job.prompt, options: job.options) { piece in
                if !piece.text.isEmpty { job.continuation.yield(.text(piece.text)) }
                return !job.cancelled
            }
            metrics.generations.increment()
            metrics.generationPromptTokens.increment(by: Int64(result.promptTokens))
            metrics.generatedTokens.increment(by: Int64(result.tokens.count))
            metrics.generationDuration.record(started.duration(to: .now))
            job.continuation.yield(.finished(result))
            job.continuation.finish()
        } catch {
            job.continuation.finish(throwing: APIError(.badRequest, "\(error)"))
        }
    }
}
