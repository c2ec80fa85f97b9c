#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Fine-tunes EmbeddingGemma on the device: sentence-transformers' `MultipleNegativesRankingLoss`
/// (optionally in its Matryoshka form) with AdamW, a linear warm-up and decay and gradient clipping,
/// over batches without duplicate texts, on float32 master weights.
///
/// ```swift
/// let examples = try TrainingExample.readPairs(path: "pairs.jsonl")
/// let trainer = try Trainer(modelPath: nil, examples: examples, options: TrainingOptions(epochs: 1))
/// _ = try trainer.train(checkpoint: "run.checkpoint") { progress in print(progress.step, progress.loss) }
/// try trainer.save(to: "my-model", overwrite: false)
/// ```
///
/// A run is repeatable: the same model, examples, options and thread count give the same weights,
/// and a run resumed from a checkpoint continues exactly as if it had not stopped.
public final class Trainer: @unchecked Sendable {
    /// How the run trains.
    public let options: TrainingOptions
    /// The examples, in file order (batches take them in a seeded order).
    public let examples: [TrainingExample]
    /// The base model's folder and tokenizer.
    public let folder: ModelFolder
    public let tokenizer: GemmaTokenizer
    let weights: TrainableWeights
    let optimizer: ModelOptimizer
    private let rotary: TrainingPass.Rotary
    /// Token ids of each example's anchor, positive and negative.
    private let sequences: [[[Int32]]]
    /// Steps of every epoch, in order: each step's example indices.
    let schedule: [[[Int]]]
    /// Bytes of activations the trainer keeps (the options' budget, lowered to what memory allows).
    let activationBudget: Int
    /// Bytes of every layer's tape on the run's largest step.
    private let largestStepActivations: Int

    /// Loads the float weights of the sentence-transformers folder at `modelPath` (nil: the default
    /// model) and prepares the run: tokenises every text and checks the data and memory.
    public init(modelPath: String?, examples: [TrainingExample], options: TrainingOptions) throws(TrainingError) {
        guard options.epochs >= 1, options.batchSize >= 2, options.learningRate > 0, options.learningRate.isFinite,
              (0..<1).contains(options.warmupRatio) else {
            throw .model(.invalidInput("epochs must be at least 1, the batch size at least 2, the learning rate positive "
                + "and the warm-up ratio in [0, 1)"))
        }
        guard examples.count >= options.batchSize else {
            throw .tooFewExamples(count: examples.count, batchSize: options.batchSize)
        }
        let folder: ModelFolder
        do {
            let resolved = try ModelLocation.resolve(modelPath)
            guard ModelLocation.isFolder(resolved) else {
                throw EmbeddingGemmaError.unsupportedConfiguration(
                    "fine-tuning needs the float weights of a sentence-transformers folder, not a GGUF file (\(resolved))")
            }
            folder = try ModelFolder(path: resolved)
            if let dims = options.matryoshkaDimensions, let bad = dims.first(where: { $0 < 1 || $0 > folder.embeddingDimension }) {
                throw EmbeddingGemmaError.unsupportedDimensions(bad, supported: EmbeddingModel.supportedDimensions)
            }
        } catch let error as EmbeddingGemmaError {
            throw .model(error)
        } catch {
            throw .model(.invalidInput("\(error)"))
        }
        self.folder = folder
        self.options = options
        self.examples = examples
        // Token ids as the model sees them, with each column's prompt (through a model whose
        // mapped weights are not read, dropped before the weights are copied).
        var sequences: [[[Int32]]] = []
        do {
            let model = try EmbeddingModel(folder: folder)
            func ids(_ text: String, _ prompt: Prompt) throws(EmbeddingGemmaError) -> [Int32] {
                try model.tokenize(text, prompt: prompt).map { Int32($0) }
            }
            for example in examples {
                var columns = [try ids(example.anchor, options.anchorPrompt), try ids(example.positive, options.positivePrompt)]
                if let negative = example.negative { columns.append(try ids(negative, options.negativePrompt)) }
                sequences.append(columns)
            }
            tokenizer = model.tokenizer
        } catch {
            throw .model(error)
        }
        self.sequences = sequences
        let texts = examples.map { [$0.anchor, $0.positive] + ($0.negative.map { [$0] } ?? []) }
        // An epoch is ceil(examples / batch size) steps, as sentence-transformers' trainer counts it: when
        // the no-duplicate sampler has to defer clashing examples and so makes more, smaller batches, the
        // ones past that count are not trained on in that epoch (another epoch's order takes them).
        let stepsPerEpoch = (examples.count + options.batchSize - 1) / options.batchSize
        schedule = (0..<options.epochs).map { epoch in
            Array(NoDuplicatesBatches(texts: texts, batchSize: options.batchSize, seed: options.seed &+ UInt64(epoch))
                .batches.prefix(stepsPerEpoch))
        }
        activationBudget = try Self.checkMemory(config: folder.config, sequences: sequences, schedule: schedule, options: options)
        var largest: [Int] = []
        for steps in schedule {
            for batch in steps {
                let lengths: [Int] = batch.flatMap { (index: Int) -> [Int] in sequences[index].map { $0.count } }
                if lengths.reduce(0, +) > largest.reduce(0, +) { largest = lengths }
            }
        }
        largestStepActivations = LayerTape.byteCount(rows: largest.reduce(0, +), lengths: largest, config: folder.config)
            * folder.config.numHiddenLayers
        do {
            weights = try TrainableWeights(folder: folder)
        } catch {
            throw .model(error)
        }
        optimizer = ModelOptimizer(weights: weights, adamW: AdamW(weightDecay: options.weightDecay))
        rotary = TrainingPass.Rotary(config: folder.config)
    }

    /// Steps of the whole run.
    public var totalSteps: Int { schedule.reduce(0) { $0 + $1.count } }

    /// Warm-up steps (Hugging Face: the ratio times the steps, rounded up).
    public var warmupSteps: Int { Int((Double(totalSteps) * options.warmupRatio).rounded(.up)) }

    /// Whether every layer's activations are kept for the backward pass (else each layer's
    /// forward is re-run during it), judged on the run's largest step.
    public var keepsActivations: Bool { largestStepActivations <= activationBudget }

    /// Steps taken so far (after a resume, including the checkpoint's).
    public var completedSteps: Int { optimizer.step }

    /// The model as trained so far, for evaluation between epochs. It reads the trainer's weights
    /// in place: use it only while no step runs.
    public func currentModel() -> EmbeddingModel {
        weights.inferenceModel(folder: folder, tokenizer: tokenizer)
    }

    /// Runs the remaining steps.
    /// - Parameters:
    ///   - checkpoint: a folder for checkpoints (weights, optimiser state, position): written at the
    ///     end of every epoch, every `checkpointInterval` seconds, when `shouldStop` says so and before
    ///     a diverging step; nil for none.
    ///   - epochEnded: called after each epoch with its 1-based number.
    ///   - shouldStop: polled between steps; when it returns true the run saves a checkpoint and
    ///     throws ``TrainingError/cancelled(step:checkpoint:)``.
    /// - Returns: what the run did.
    public func train(checkpoint: String? = nil, checkpointInterval: Double = 600,
                      progress: (TrainingProgress) -> Void = { _ in }, epochEnded: (Int) -> Void = { _ in },
                      shouldStop: () -> Bool = { false }) throws(TrainingError) -> TrainingReport {
        let loss = RankingLoss(scale: options.scale, dimensions: options.matryoshkaDimensions)
        let gradients = Gradients(weights: weights)
        let pool = BufferPool()
        gradients.zero()
        let started = Date()
        var phases = [0.0, 0.0, 0.0]   // forward, backward, optimiser
        var outside = 0.0              // seconds in callbacks and checkpoints, not training
        func timed<T>(_ phase: Int, _ body: () throws(TrainingError) -> T) throws(TrainingError) -> T {
            let start = Date()
            defer { phases[phase] += Date().timeIntervalSince(start) }
            return try body()
        }
        var lastCheckpoint = Date()
        var tokens = 0
        var epochLosses: [Double] = []
        let total = totalSteps, warmup = warmupSteps
        var stepIndex = 0
        var stepsHere = 0
        for (epoch, steps) in schedule.enumerated() {
            var lossSum = 0.0, lossCount = 0
            for batch in steps {
                defer { stepIndex += 1 }
                if stepIndex < optimizer.step { continue }   // done before the checkpoint this run resumed
                if shouldStop() {
                    if let checkpoint { try saveCheckpoint(to: checkpoint) }
                    throw .cancelled(step: optimizer.step, checkpoint: checkpoint)
                }
                let columns = sequences[batch[0]].count
                var batchSequences: [[Int32]] = []
                for column in 0..<columns { batchSequences += batch.map { sequences[$0][column] } }
                tokens += batchSequences.reduce(0) { $0 + $1.count }
                let pass = TrainingPass(weights: weights, rotary: rotary, sequences: batchSequences, activationBudget: activationBudget,
                                        pool: pool)
                let embeddings = try timed(0) { pass.forward() }
                let b = batch.count
                let result = loss.evaluate(anchors: Array(embeddings[0..<b]), positives: Array(embeddings[b..<(2 * b)]),
                                           negatives: columns > 2 ? Array(embeddings[(2 * b)...]) : [])
                guard result.loss.isFinite else {
                    if let checkpoint { try saveCheckpoint(to: checkpoint) }
                    throw .diverged(step: stepIndex + 1, loss: result.loss, checkpoint: checkpoint)
                }
                let norm = try timed(1) { () -> Double in
                    pass.backward(result.anchors + result.positives + result.negatives, into: gradients)
                    return gradients.norm
                }
                guard norm.isFinite else {
                    if let checkpoint { try saveCheckpoint(to: checkpoint) }
                    throw .diverged(step: stepIndex + 1, loss: norm, checkpoint: checkpoint)
                }
                // torch.nn.utils.clip_grad_norm_: scale by max / (norm + 1e-6), clamped to 1.
                let coefficient = min(1, options.maxGradientNorm / (Float(norm) + 1e-6))
                let rate = AdamW.learningRate(base: options.learningRate, step: stepIndex, total: total, warmup: warmup)
                // The step reads each gradient once, scaled by clipping's factor, and leaves it at zero.
                try timed(2) { optimizer.apply(gradients, to: weights, rate: rate, gradientScale: coefficient) }
                lossSum += result.loss
                lossCount += 1
                stepsHere += 1
                let elapsed = Date().timeIntervalSince(started) - outside
                let done = stepIndex + 1
                progress(TrainingProgress(step: done, totalSteps: total, epoch: epoch + 1, loss: result.loss,
                                          tokensPerSecond: Double(tokens) / max(elapsed, 1e-9), elapsedSeconds: elapsed,
                                          remainingSeconds: elapsed / Double(stepsHere) * Double(total - done)))
                let callbackEnd = Date()
                outside += callbackEnd.timeIntervalSince(started) - outside - elapsed
                if let checkpoint, callbackEnd.timeIntervalSince(lastCheckpoint) >= checkpointInterval, done < total {
                    try saveCheckpoint(to: checkpoint)
                    lastCheckpoint = Date()
                    outside += lastCheckpoint.timeIntervalSince(callbackEnd)
                }
            }
            if lossCount > 0 {
                epochLosses.append(lossSum / Double(lossCount))
                let pause = Date()
                if let checkpoint, stepIndex < total { try saveCheckpoint(to: checkpoint) }
                epochEnded(epoch + 1)
                outside += Date().timeIntervalSince(pause)
            }
        }
        let seconds = Date().timeIntervalSince(started) - outside
        return TrainingReport(steps: optimizer.step, epochs: options.epochs, epochLosses: epochLosses, tokens: tokens,
                               seconds: seconds, tokensPerSecond: Double(tokens) / max(seconds, 1e-9),
                              forwardSeconds: phases[0], backwardSeconds: phases[1], optimizerSeconds: phases[2])
    }
}
