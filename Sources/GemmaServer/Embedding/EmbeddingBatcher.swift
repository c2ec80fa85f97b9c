import EmbeddingGemma
import Foundation

/// Schedules the inputs of concurrent requests into shared batches on one worker thread: which
/// requests go together, and when. How a batch is split into encoder passes, cut to each
/// request's width and checked against its truncation rule is the model's business
/// (``EmbeddingModel/embed(_:)-(([EmbeddingRequest]))``), so a request that fails fails alone.
///
/// Each request's inputs wait in a bounded queue. The worker takes queued requests up to a
/// token budget per batch; when what is queued is short (a single query) and requests arrived
/// during the previous batch (concurrent clients), it waits at most ``Configuration/maxWait`` for
/// company first; a lone client is served at once. A full queue refuses new work at once
/// (``BatcherError/queueFull``: the server answers 503 with `Retry-After`), so memory stays
/// bounded; a request whose client went away is dropped before it is embedded.
///
/// Short requests (queries: at most ``Configuration/shortInputTokens`` tokens per input) go
/// first: a batch takes every waiting short request that fits its budget, then long requests
/// (documents) in arrival order, and always the oldest long request when one waits, so that
/// neither kind starves. A query arriving while documents stream thus waits for at most the
/// batch in progress, not for the whole backlog. While only documents come (no query for
/// ``Configuration/queryQuietPeriod``), batches grow to ``Configuration/documentBatchTokens``.
public final class EmbeddingBatcher: @unchecked Sendable {
    /// Limits and timing of the queue.
    public struct Configuration: Sendable {
        /// Most inputs waiting at once, over all requests.
        public var maxQueuedInputs: Int
        /// Tokens per batch (what the model embeds in one call, in passes of its own
        /// ``EmbeddingModel/passTokens``): larger batches use the CPU a little better, smaller
        /// ones bound how long a query arriving meanwhile waits.
        public var batchTokens: Int
        /// Longest a batch waits for more work when what is queued is below the budget.
        public var maxWait: Duration
        /// Requests whose inputs have at most this many tokens on average are served first.
        public var shortInputTokens: Int
        /// Tokens per batch while only documents are queued and no query arrived for
        /// ``queryQuietPeriod``: larger batches use the CPU better when no one waits for an answer
        /// at once (a bulk load); ``batchTokens`` again as soon as queries come.
        public var documentBatchTokens: Int
        /// How long after the last query batches stay at ``batchTokens``.
        public var queryQuietPeriod: Duration

        /// Limits and timing; every value has a default.
        public init(maxQueuedInputs: Int = 4096, batchTokens: Int = 1024, maxWait: Duration = .milliseconds(3), shortInputTokens: Int = 64,
                    documentBatchTokens: Int = 4096, queryQuietPeriod: Duration = .seconds(2)) {
            self.maxQueuedInputs = maxQueuedInputs
            self.batchTokens = batchTokens
            self.maxWait = maxWait
            self.shortInputTokens = shortInputTokens
            self.documentBatchTokens = documentBatchTokens
            self.queryQuietPeriod = queryQuietPeriod
        }
    }

    /// Why a request was not embedded.
    public enum BatcherError: Error, Sendable, Equatable {
        /// The queue holds ``Configuration/maxQueuedInputs`` inputs already.
        case queueFull
        /// The batcher was shut down.
        case shutDown
        /// An input is longer than the model reads and the request asked not to truncate.
        case inputTooLong(index: Int, tokens: Int, limit: Int)
        /// The model refused the input (unsupported dimensions, a token it cannot embed, ...).
        case model(EmbeddingGemmaError)
    }

    /// One request's inputs.
    private final class Job: @unchecked Sendable {
        let requests: [EmbeddingRequest]
        let estimatedTokens: Int
        let enqueued = ContinuousClock.now
        var continuation: CheckedContinuation<[Embedding], any Error>?
        var cancelled = false

        init(requests: [EmbeddingRequest], schedulingTokens: Int?) {
            self.requests = requests
            if let schedulingTokens {
                // Prompts and the BOS/EOS tokens add about 10 tokens per input.
                estimatedTokens = schedulingTokens + 10 * requests.count
            } else {
                estimatedTokens = requests.reduce(0) { $0 + $1.estimatedTokens }
            }
        }
    }

    /// The model every pass runs.
    public let model: EmbeddingModel
    /// The limits in force.
    public let configuration: Configuration
    /// The thread that runs batches; its lock guards every queue and counter below.
    private let worker = Worker(name: "embedding-batcher")
    /// Queries (short inputs), served first.
    private var shortQueue: [Job] = []
    /// Documents, in arrival order.
    private var longQueue: [Job] = []
    /// The last batch had no room for the oldest long request: the next one starts with it.
    private var longWasSkipped = false
    /// When the last short request (query) arrived.
    private var lastShortArrival: ContinuousClock.Instant?
    /// Whether a batch is running, and whether requests arrived meanwhile: the sign of concurrent
    /// clients, the only case where waiting for company pays.
    private var batchRunning = false
    private var arrivalsDuringBatch = 0
    private var lastBatchHadArrivals = false
    private var queuedInputs = 0
    private var held = false
    private var statistics = Statistics()
    /// Where passes, queue depth, waits, refusals and cancellations are recorded.
    public let metrics: ServerMetrics

    /// Counters for `/metrics`.
    public struct Statistics: Sendable {
        /// Batches embedded (each one call of the model, in one or more encoder passes).
        public var passes = 0
        /// Inputs embedded.
        public var inputs = 0
        /// Tokens embedded.
        public var tokens = 0
        /// Requests refused because the queue was full.
        public var rejected = 0
        /// Requests dropped because their client went away.
        public var cancelled = 0
        /// Inputs waiting now.
        public var queuedInputs = 0
    }

    /// Starts the worker thread.
    /// - Parameter metrics: where to record passes and queue figures (a registry of its own if not given).
    public init(model: EmbeddingModel, configuration: Configuration = Configuration(), metrics: ServerMetrics = ServerMetrics()) {
        self.model = model
        self.configuration = configuration
        self.metrics = metrics
        worker.start { [weak self] in self?.nextBatch() }
    }

    /// The counters so far.
    public var currentStatistics: Statistics {
        worker.withLock {
            var copy = statistics
            copy.queuedInputs = queuedInputs
            return copy
        }
    }

    /// Embeds `requests` in a batch shared with other clients' requests.
    /// - Parameter schedulingTokens: the tokens the requests weigh in scheduling, when the caller
    ///   knows better than the default (each tokenized input's count; a text's length / 3, plus 10
    ///   for prompt and special tokens).
    /// - Returns: one embedding per request, in order.
    /// - Throws: ``BatcherError/queueFull`` or ``BatcherError/shutDown`` at once; else the first
    ///   failing request's error: ``BatcherError/inputTooLong(index:tokens:limit:)`` (its index in
    ///   `requests`) or ``BatcherError/model(_:)``; `CancellationError` when the task was cancelled
    ///   before its batch ran.
    public func embed(_ requests: [EmbeddingRequest], schedulingTokens: Int? = nil) async throws -> [Embedding] {
        let job = Job(requests: requests, schedulingTokens: schedulingTokens)
        let isShort = job.estimatedTokens <= configuration.shortInputTokens * max(requests.count, 1)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                worker.withLock {
                    guard worker.isRunning else {
                        continuation.resume(throwing: BatcherError.shutDown)
                        return
                    }
                    guard queuedInputs + requests.count <= configuration.maxQueuedInputs || queuedInputs == 0 else {
                        statistics.rejected += 1
                        metrics.rejected.increment()
                        continuation.resume(throwing: BatcherError.queueFull)
                        return
                    }
                    job.continuation = continuation
                    if isShort {
                        shortQueue.append(job)
                        lastShortArrival = job.enqueued
                    } else {
                        longQueue.append(job)
                    }
                    if batchRunning { arrivalsDuringBatch += 1 }
                    queuedInputs += requests.count
                    metrics.queueInputs.set(Double(queuedInputs))
                    worker.signal()
                }
            }
        } onCancel: {
            worker.withLock { job.cancelled = true }
        }
    }

    /// Keeps the worker from starting batches until ``resumeWork()``: requests queue up meanwhile
    /// (tests use it to fill the queue deterministically).
    func holdWork() {
        worker.withLock { held = true }
    }

    /// Lets the worker run batches again after ``holdWork()``.
    func resumeWork() {
        worker.withLock {
            held = false
            worker.signal()
        }
    }

    /// Stops taking work; queued requests are still embedded.
    public func shutdown() {
        worker.stop()
    }

    /// The next batch to run, or nil to wait (called by the worker with the lock held). Under
    /// concurrent load, a short batch waits a little for company; a lone client is served at once.
    private func nextBatch() -> (@Sendable () -> Void)? {
        guard queuedInputs > 0, !held || !worker.isRunning else { return nil }
        let waiting = shortQueue.reduce(0) { $0 + $1.estimatedTokens } + longQueue.reduce(0) { $0 + $1.estimatedTokens }
        if lastBatchHadArrivals, waiting < configuration.batchTokens,
           let first = [shortQueue.first, longQueue.first].compactMap({ $0 }).map(\.enqueued).min() {
            worker.wait(until: first + configuration.maxWait)
        }
        let batch = takeBatch()
        guard !batch.isEmpty else { return nil }
        batchRunning = true
        arrivalsDuringBatch = 0
        return { [self] in
            run(batch)
            worker.withLock {
                batchRunning = false
                lastBatchHadArrivals = arrivalsDuringBatch > 0
            }
        }
    }

    /// Takes the next batch off the queues (the lock held): short requests, then long requests,
    /// within the token budget. A long request left out of one batch opens the next one, so that a
    /// stream of queries cannot starve documents (and a large document delays queries by at most
    /// one batch).
    private func takeBatch() -> [Job] {
        var pass: [Job] = []
        var tokens = 0
        // Only documents, and no query for a while: a bulk load, served in larger passes.
        let quiet = shortQueue.isEmpty && lastShortArrival.map { $0.duration(to: .now) >= configuration.queryQuietPeriod } ?? true
        let budget = quiet ? max(configuration.batchTokens, configuration.documentBatchTokens) : configuration.batchTokens
        func take(from queue: inout [Job], always: Bool) {
            while let next = queue.first, (always && pass.isEmpty) || tokens + next.estimatedTokens <= budget {
                queue.removeFirst()
                queuedInputs -= next.requests.count
                if next.cancelled {
                    statistics.cancelled += 1
                    metrics.cancelled.increment()
                    next.continuation?.resume(throwing: CancellationError())
                    continue
                }
                metrics.queueWait.record(next.enqueued.duration(to: .now))
                pass.append(next)
                tokens += next.estimatedTokens
                if always { break }
            }
        }
        if longWasSkipped { take(from: &longQueue, always: true) }
        take(from: &shortQueue, always: true)
        take(from: &shortQueue, always: false)
        let longBefore = longQueue.count
        take(from: &longQueue, always: true)
        take(from: &longQueue, always: false)
        longWasSkipped = !longQueue.isEmpty && longQueue.count == longBefore
        metrics.queueInputs.set(Double(queuedInputs))
        return pass
    }

    /// Embeds one batch and answers each request with its share: its vectors, or the first
    /// error among its inputs.
    private func run(_ batch: [Job]) {
        let start = ContinuousClock.now
        let results = model.embed(batch.flatMap(\.requests))
        var embedded: [Embedding] = []
        var answers: [Result<[Embedding], any Error>] = []
        var offset = 0
        for job in batch {
            let mine = results[offset..<(offset + job.requests.count)]
            answers.append(Result { () throws(BatcherError) in
                try mine.enumerated().map { (index, result) throws(BatcherError) in
                    switch result {
                    case .success(let embedding): return embedding
                    case .failure(.inputTooLong(_, let tokens, let limit)): throw .inputTooLong(index: index, tokens: tokens, limit: limit)
                    case .failure(let error): throw .model(error)
                    }
                }
            }.mapError { $0 as any Error })
            if case .success(let vectors) = answers[answers.count - 1] { embedded += vectors }
            offset += job.requests.count
        }
        metrics.recordPass(inputs: embedded.count, tokens: embedded.reduce(0) { $0 + $1.tokenCount }, duration: start.duration(to: .now))
        let continuations = worker.withLock {
            statistics.passes += 1
            statistics.inputs += embedded.count
            statistics.tokens += embedded.reduce(0) { $0 + $1.tokenCount }
            return batch.map { job in
                defer { job.continuation = nil }
                return job.continuation
            }
        }
        for (continuation, answer) in zip(continuations, answers) {
            continuation?.resume(with: answer)
        }
    }
}
