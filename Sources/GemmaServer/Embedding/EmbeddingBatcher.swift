import EmbeddingGemma
import Foundation

/// Packs the inputs of concurrent requests into shared encoder passes on one worker thread.
///
/// Each request's inputs wait in a bounded queue. The worker takes queued requests up to a
/// token budget per pass; when what is queued is short (a single query) and requests arrived
/// during the previous pass (concurrent clients), it waits at most ``Configuration/maxWait`` for
/// company first; a lone client is served at once. A full queue refuses new work at once
/// (``BatcherError/queueFull``: the server answers 503 with `Retry-After`), so memory stays
/// bounded; a request whose client went away is dropped before it is embedded.
///
/// Short requests (queries: at most ``Configuration/shortInputTokens`` tokens per input) go
/// first: a pass takes every waiting short request that fits its budget, then long requests
/// (documents) in arrival order, and always the oldest long request when one waits, so that
/// neither kind starves. A query arriving while documents stream thus waits for at most the
/// pass in progress, not for the whole backlog. While only documents come (no query for
/// ``Configuration/queryQuietPeriod``), passes grow to ``Configuration/documentPassTokens``.
public final class EmbeddingBatcher: @unchecked Sendable {
    /// Limits and timing of the queue.
    public struct Configuration: Sendable {
        /// Most inputs waiting at once, over all requests.
        public var maxQueuedInputs: Int
        /// Tokens per encoder pass: larger passes use the CPU a little better, smaller ones bound
        /// how long a query arriving meanwhile waits.
        public var tokensPerPass: Int
        /// Longest a pass waits for more work when what is queued is below the budget.
        public var maxWait: Duration
        /// Requests whose inputs have at most this many tokens on average are served first.
        public var shortInputTokens: Int
        /// Tokens per pass while only documents are queued and no query arrived for
        /// ``queryQuietPeriod``: larger passes use the CPU better when no one waits for an answer
        /// at once (a bulk load); ``tokensPerPass`` again as soon as queries come.
        public var documentPassTokens: Int
        /// How long after the last query passes stay at ``tokensPerPass``.
        public var queryQuietPeriod: Duration

        public init(maxQueuedInputs: Int = 4096, tokensPerPass: Int = 1024, maxWait: Duration = .milliseconds(3), shortInputTokens: Int = 64,
                    documentPassTokens: Int = 4096, queryQuietPeriod: Duration = .seconds(2)) {
            self.maxQueuedInputs = maxQueuedInputs
            self.tokensPerPass = tokensPerPass
            self.maxWait = maxWait
            self.shortInputTokens = shortInputTokens
            self.documentPassTokens = documentPassTokens
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
        let texts: [String]
        let prompts: [Prompt]
        let dimensions: Int?
        let truncate: Bool
        let estimatedTokens: Int
        let enqueued = ContinuousClock.now
        var continuation: CheckedContinuation<[Embedding], any Error>?
        var cancelled = false

        init(texts: [String], prompts: [Prompt], dimensions: Int?, truncate: Bool, tokens: Int?) {
            self.texts = texts
            self.prompts = prompts
            self.dimensions = dimensions
            self.truncate = truncate
            // Prompts and the BOS/EOS tokens add about 10 tokens per input.
            estimatedTokens = (tokens ?? texts.reduce(0) { $0 + $1.utf8.count / 3 }) + 10 * texts.count
        }
    }

    /// The model every pass runs.
    public let model: EmbeddingModel
    /// The limits in force.
    public let configuration: Configuration
    private let condition = NSCondition()
    /// Queries (short inputs), served first.
    private var shortQueue: [Job] = []
    /// Documents, in arrival order.
    private var longQueue: [Job] = []
    /// The last pass had no room for the oldest long request: the next one starts with it.
    private var longWasSkipped = false
    /// When the last short request (query) arrived.
    private var lastShortArrival: ContinuousClock.Instant?
    /// Whether a pass is running, and whether requests arrived meanwhile: the sign of concurrent
    /// clients, the only case where waiting for company pays.
    private var passRunning = false
    private var arrivalsDuringPass = 0
    private var lastPassHadArrivals = false
    private var queuedInputs = 0
    private var running = true
    private var held = false
    private var statistics = Statistics()
    /// Where passes, queue depth, waits, refusals and cancellations are recorded.
    public let metrics: ServerMetrics

    /// Counters for `/metrics`.
    public struct Statistics: Sendable {
        /// Encoder passes run.
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
        let worker = Thread { [weak self] in self?.work() }
        worker.name = "embedding-batcher"
        worker.stackSize = 8 << 20
        worker.start()
    }

    /// The counters so far.
    public var currentStatistics: Statistics {
        condition.lock()
        defer { condition.unlock() }
        var copy = statistics
        copy.queuedInputs = queuedInputs
        return copy
    }

    /// Embeds `texts`, each with its prompt, in a pass shared with other requests.
    /// - Parameters:
    ///   - dimensions: Matryoshka width (nil for the full width).
    ///   - truncate: cut over-long inputs to the model's limit (else fail with ``BatcherError/inputTooLong(index:tokens:limit:)``).
    ///   - tokens: the texts' token count when the caller knows it (else estimated from their length).
    public func embed(_ texts: [String], prompts: [Prompt], dimensions: Int?, truncate: Bool, tokens: Int? = nil) async throws -> [Embedding] {
        let job = Job(texts: texts, prompts: prompts, dimensions: dimensions, truncate: truncate, tokens: tokens)
        let isShort = job.estimatedTokens <= configuration.shortInputTokens * max(texts.count, 1)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                condition.lock()
                defer { condition.unlock() }
                guard running else {
                    continuation.resume(throwing: BatcherError.shutDown)
                    return
                }
                guard queuedInputs + texts.count <= configuration.maxQueuedInputs || queuedInputs == 0 else {
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
                if passRunning { arrivalsDuringPass += 1 }
                queuedInputs += texts.count
                metrics.queueInputs.set(Double(queuedInputs))
                condition.broadcast()
            }
        } onCancel: {
            condition.lock()
            job.cancelled = true
            condition.unlock()
        }
    }

    /// Keeps the worker from starting passes until ``resumeWork()``: requests queue up meanwhile
    /// (tests use it to fill the queue deterministically).
    func holdWork() {
        condition.lock()
        held = true
        condition.unlock()
    }

    /// Lets the worker run passes again after ``holdWork()``.
    func resumeWork() {
        condition.lock()
        held = false
        condition.broadcast()
        condition.unlock()
    }

    /// Stops taking work; queued requests are still embedded.
    public func shutdown() {
        condition.lock()
        running = false
        condition.broadcast()
        condition.unlock()
    }

    /// The worker loop: wait for work, gather a pass, embed it, answer its requests.
    private func work() {
        while true {
            condition.lock()
            while (queuedInputs == 0 || held) && running { condition.wait() }
            if queuedInputs == 0, !running {
                condition.unlock()
                return
            }
            // Under concurrent load, a short pass waits a little for company; a lone client is
            // served at once.
            let waiting = shortQueue.reduce(0) { $0 + $1.estimatedTokens } + longQueue.reduce(0) { $0 + $1.estimatedTokens }
            if lastPassHadArrivals, waiting < configuration.tokensPerPass, let first = [shortQueue.first, longQueue.first].compactMap({ $0 }).map(\.enqueued).min() {
                let deadline = first + configuration.maxWait
                let now = ContinuousClock.now
                if deadline > now {
                    _ = condition.wait(until: Date().addingTimeInterval(now.duration(to: deadline) / .seconds(1)))
                }
            }
            let pass = takePass()
            passRunning = !pass.isEmpty
            arrivalsDuringPass = 0
            condition.unlock()
            guard !pass.isEmpty else { continue }
            run(pass)
            condition.lock()
            passRunning = false
            lastPassHadArrivals = arrivalsDuringPass > 0
            condition.unlock()
        }
    }

    /// Takes the next pass off the queues (the lock held): short requests, then long requests,
    /// within the token budget. A long request left out of one pass opens the next one, so that a
    /// stream of queries cannot starve documents (and a large document delays queries by at most
    /// one pass).
    private func takePass() -> [Job] {
        var pass: [Job] = []
        var tokens = 0
        // Only documents, and no query for a while: a bulk load, served in larger passes.
        let quiet = shortQueue.isEmpty && lastShortArrival.map { $0.duration(to: .now) >= configuration.queryQuietPeriod } ?? true
        let budget = quiet ? max(configuration.tokensPerPass, configuration.documentPassTokens) : configuration.tokensPerPass
        func take(from queue: inout [Job], always: Bool) {
            while let next = queue.first, (always && pass.isEmpty) || tokens + next.estimatedTokens <= budget {
                queue.removeFirst()
                queuedInputs -= next.texts.count
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

    /// Embeds one pass; when the model rejects it, each request is embedded alone so that only
    /// the request at fault fails.
    private func run(_ pass: [Job]) {
        let texts = pass.flatMap(\.texts), prompts = pass.flatMap(\.prompts)
        let embeddings: [Embedding]
        let start = ContinuousClock.now
        do {
            embeddings = try model.embed(texts, prompts: prompts)
        } catch {
            for job in pass { finish(job, result: Result<[Embedding], any Error> { try model.embed(job.texts, prompts: job.prompts) }) }
            return
        }
        condition.lock()
        statistics.passes += 1
        condition.unlock()
        metrics.recordPass(inputs: embeddings.count, tokens: embeddings.reduce(0) { $0 + $1.tokenCount }, duration: start.duration(to: .now))
        var offset = 0
        for job in pass {
            finish(job, result: .success(Array(embeddings[offset..<(offset + job.texts.count)])))
            offset += job.texts.count
        }
    }

    /// Answers `job` with its share of a pass: cut to its width, checked against its truncation rule.
    private func finish(_ job: Job, result: Result<[Embedding], any Error>) {
        let answer: Result<[Embedding], any Error> = result.flatMap { embeddings in
            if !job.truncate, let index = embeddings.firstIndex(where: \.wasTruncated) {
                return .failure(BatcherError.inputTooLong(index: index, tokens: embeddings[index].originalTokenCount,
                                                          limit: model.maxSequenceLength))
            }
            guard let width = job.dimensions, width < model.dimensions else { return .success(embeddings) }
            return .success(embeddings.map { embedding in
                var cut = embedding
                cut.vector = VectorMath.normalized(Array(embedding.vector.prefix(width)))
                return cut
            })
        }.mapError { error in (error as? EmbeddingGemmaError).map(BatcherError.model) ?? error }
        condition.lock()
        if case .success(let embeddings) = answer {
            statistics.inputs += embeddings.count
            statistics.tokens += embeddings.reduce(0) { $0 + $1.tokenCount }
        }
        let continuation = job.continuation
        job.continuation = nil
        condition.unlock()
        continuation?.resume(with: answer)
    }
}
