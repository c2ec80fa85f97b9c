import EmbeddingGemma
import Foundation

/// A whole fine-tuning job, as the `finetune` verb runs it: read the data, train with a
/// ``Trainer`` (resuming from its checkpoint when asked), measure before and after every epoch,
/// write the model folder and, when asked, a GGUF file quantized with calibration on the
/// training texts.
public struct FineTuneJob: Sendable {
    /// Where the training examples come from.
    public enum Data: Sendable {
        /// `{"anchor", "positive"[, "negative"]}` lines.
        case pairs(path: String)
        /// `{"text", "label"}` lines: each text with a positive of its label.
        case labelled(path: String)
    }

    /// The base model (nil: the default model).
    public var model: String?
    /// The training examples.
    public var data: Data
    /// How to train.
    public var options: TrainingOptions
    /// An evaluation file (pairs or labelled texts), nil for none.
    public var evaluation: String?
    /// The output folder.
    public var output: String
    /// Whether an existing output folder may be replaced.
    public var overwrite: Bool
    /// The checkpoint folder (`OUTPUT.checkpoint` by default).
    public var checkpoint: String
    /// Continue from the checkpoint.
    public var resume: Bool
    /// Also write a GGUF file of the result, encoded as `quantization`.
    public var gguf: (path: String, quantization: QuantizationType)?

    /// A job; nothing runs until ``run(events:shouldStop:)``.
    public init(model: String?, data: Data, options: TrainingOptions, evaluation: String? = nil, output: String,
                overwrite: Bool = false, checkpoint: String? = nil, resume: Bool = false,
                gguf: (path: String, quantization: QuantizationType)? = nil) {
        self.model = model
        self.data = data
        self.options = options
        self.evaluation = evaluation
        self.output = output
        self.overwrite = overwrite
        self.checkpoint = checkpoint ?? output + ".checkpoint"
        self.resume = resume
        self.gguf = gguf
    }

    /// What a job reports as it goes.
    public enum Event: Sendable {
        /// Data read and model loaded: examples, steps in all, steps already done (resumed).
        case started(examples: Int, steps: Int, resumedAt: Int, keepsActivations: Bool)
        /// A step was taken.
        case step(TrainingProgress)
        /// Metrics before training (epoch 0) or after an epoch.
        case evaluated(epoch: Int, metrics: [String: Double])
        /// A file or folder was written.
        case saved(path: String)
    }

    /// What a finished job did.
    public struct Result: Sendable {
        /// The trainer's report.
        public var report: TrainingReport
        /// Metrics by epoch (0: before training).
        public var metrics: [Int: [String: Double]]
        /// The model folder written.
        public var output: String
        /// The GGUF file written, if one was asked for.
        public var gguf: String?
    }

    /// Runs the job.
    /// - Parameters:
    ///   - events: progress, evaluations and saved files.
    ///   - shouldStop: polled between steps; true saves a checkpoint and throws ``TrainingError/cancelled(step:checkpoint:)``.
    public func run(events: (Event) -> Void = { _ in }, shouldStop: () -> Bool = { false }) throws(TrainingError) -> Result {
        if FileManager.default.fileExists(atPath: output), !overwrite { throw .outputExists(path: output) }
        let examples: [TrainingExample]
        var labelled: [TrainingExample.Labelled]?
        switch data {
        case let .pairs(path):
            examples = try TrainingExample.readPairs(path: path)
        case let .labelled(path):
            let items = try TrainingExample.readLabelled(path: path)
            labelled = items
            examples = try TrainingExample.pairs(from: items, seed: options.seed)
        }
        let evaluation = try self.evaluation.map { path throws(TrainingError) in
            try FineTuneEvaluation.read(path: path, training: labelled, options: options)
        }
        let trainer = try Trainer(modelPath: model, examples: examples, options: options)
        if resume {
            guard Trainer.checkpointExists(at: checkpoint) else {
                throw .invalidCheckpoint(path: checkpoint, reason: "there is no checkpoint to resume")
            }
            try trainer.resume(from: checkpoint)
        }
        events(.started(examples: examples.count, steps: trainer.totalSteps, resumedAt: trainer.completedSteps,
                        keepsActivations: trainer.keepsActivations))
        var metrics: [Int: [String: Double]] = [:]
        if let evaluation, trainer.completedSteps == 0 {
            metrics[0] = try evaluation.measure(trainer.currentModel())
            events(.evaluated(epoch: 0, metrics: metrics[0] ?? [:]))
        }
        var failure: TrainingError?
        let report = try trainer.train(checkpoint: checkpoint, progress: { events(.step($0)) }, epochEnded: { epoch in
            guard let evaluation, failure == nil else { return }
            switch Swift.Result(catching: { () throws(TrainingError) in try evaluation.measure(trainer.currentModel()) }) {
            case let .success(measured):
                metrics[epoch] = measured
                events(.evaluated(epoch: epoch, metrics: measured))
            case let .failure(error):
                failure = error
            }
        }, shouldStop: shouldStop)
        if let failure { throw failure }
        try trainer.save(to: output, overwrite: overwrite)
        events(.saved(path: output))
        Trainer.removeCheckpoint(at: checkpoint)
        var written: String?
        if let gguf {
            do {
                let model = try EmbeddingModel(path: output)
                let calibration = gguf.quantization == .q8_0 || gguf.quantization == .q4_0
                    ? try model.importanceMatrix(calibration: Array(Set(examples.flatMap { [$0.anchor, $0.positive] })).sorted())
                    : nil
                try model.converted(to: gguf.quantization, importance: calibration).writeGGUF(to: gguf.path)
                written = gguf.path
                events(.saved(path: gguf.path))
            } catch {
                throw .model(error)
            }
        }
        return Result(report: report, metrics: metrics, output: output, gguf: written)
    }

}
