import EmbeddingGemma
import Foundation

/// Packs the inputs of concurrent requests into shared encoder passes on one worker thread.
///
/// Each request's inputs wait in a bounded queue. The worker takes queued requests up to a
/// token budget per pass; when what is queued is short (a single query), it waits at most
/// ``Configuration/maxWait`` for company first. A full queue refuses new work at once
/// (``BatcherError/queueFull``: the server answers 503 with `Retry-After`), so memory stays
/// bounded; a request whose client went away is dropped before it is embedded.
public final class EmbeddingBatcher: @unchecked Sendable {
    /// Limits and timing of the queue.
    public struct Configuration: Sendable {
        /// Most inputs waiting at once, over all requests.
        public var maxQueuedInputs: Int
        /// Tokens (estimated) per encoder pass.
        public var tokensPerPass: Int
        /// Longest a pass waits for more work when what is queued is below the budget.
        public var maxWait: Duration

        public init(maxQueuedInputs: Int = 4096, tokensPerPass: Int = 4096, maxWait: Duration = .milliseconds(3)) {
            self.maxQueuedInputs = maxQueuedInputs
            self.tokensPerPass = tokensPerPass
            self.maxWait = maxWait
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

        init(texts: [String], prompts: [Prompt], dimensions: Int?, truncate: Bool) {
            self.texts = texts
            self.prompts = prompts
            self.dimensions = dimensions
            self.truncate = truncate
            estimatedTokens = texts.reduce(0) { $0 + $1.utf8.count / 3 + 12 }
        }
    }

    /// The model every pass runs.
    public let model: EmbeddingModel
    /// The limits in force.
    public let configuration: Configuration
    private let condition = NSCondition()
    private var queue: [Job] = []
    private var queuedInputs = 0
    private var running = true
    private var statistics = Statistics()

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
    public init(model: EmbeddingModel, configuration: Configuration = Configuration()) {
        self.model = model
        self.configuration = configuration
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
    public func embed(_ texts: [String], prompts: [Prompt], dimensions: Int?, truncate: Bool) async throws -> [Embedding] {
        let job = Job(texts: texts, prompts: prompts, dimensions: dimensions, truncate: truncate)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                condition.lock()
                defer { condition.unlock() }
                guard running else {
                    continuation.resume(throwing: BatcherError.shutDown)
                    return
                }
                guard queuedInputs + texts.count <= configuration.maxQueuedInputs || queue.isEmpty else {
                    statistics.rejected += 1
                    continuation.resume(throwing: BatcherError.queueFull)
                    return
                }
                job.continuation = continuation
                queue.append(job)
                queuedInputs += texts.count
                condition.broadcast()
            }
        } onCancel: {
            condition.lock()
            job.cancelled = true
            condition.unlock()
        }
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
            while queue.isEmpty, running { condition.wait() }
            if queue.isEmpty, !running {
                condition.unlock()
                return
            }
            // A short pass waits a little for company.
            if let first = queue.first, queue.reduce(0, { $0 + $1.estimatedTokens }) < configuration.tokensPerPass {
                let deadline = first.enqueued + configuration.maxWait
                let now = ContinuousClock.now
                if deadline > now {
                    let wait = now.duration(to: deadline).components
                    let seconds = Double(wait.seconds) + Double(wait.attoseconds) / 1e18
                    _ = condition.wait(until: Date().addingTimeInterval(seconds))
                }
            }
            var pass: [Job] = []
            var tokens = 0
            while let next = queue.first, pass.isEmpty || tokens + next.estimatedTokens <= configuration.tokensPerPass {
                queue.removeFirst()
                queuedInputs -= next.texts.count
                if next.cancelled {
                    statistics.cancelled += 1
                    next.continuation?.resume(throwing: CancellationError())
                    continue
                }
                pass.append(next)
                tokens += next.estimatedTokens
            }
            condition.unlock()
            guard !pass.isEmpty else { continue }
            run(pass)
        }
    }

    /// Embeds one pass; when the model rejects it, each request is embedded alone so that only
    /// the request at fault fails.
    private func run(_ pass: [Job]) {
        let texts = pass.flatMap(\.texts), prompts = pass.flatMap(\.prompts)
        let embeddings: [Embedding]
        do {
            embeddings = try model.embed(texts, prompts: prompts)
        } catch {
            for job in pass { finish(job, result: Result<[Embedding], any Error> { try model.embed(job.texts, prompts: job.prompts) }) }
            return
        }
        condition.lock()
        statistics.passes += 1
        condition.unlock()
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
