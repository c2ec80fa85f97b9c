/// Why fine-tuning could not start or stopped.
public enum TrainingError: Error, Sendable, CustomStringConvertible {
    /// A line of a training or evaluation file is not what it must be.
    case invalidData(path: String, line: Int, reason: String)
    /// Fewer examples than one batch.
    case tooFewExamples(count: Int, batchSize: Int)
    /// Labels with a single text: no positive can be drawn for them.
    case singleExampleLabels([String])
    /// The loss became NaN or infinite at `step`; the weights before that step were kept.
    case diverged(step: Int, loss: Double, checkpoint: String?)
    /// The batch does not fit in memory; `fittingBatchSize` does (0 when none does).
    case insufficientMemory(neededBytes: Int, availableBytes: Int, batchSize: Int, fittingBatchSize: Int)
    /// The output folder exists and overwriting was not asked for.
    case outputExists(path: String)
    /// A checkpoint cannot be read or belongs to another run.
    case invalidCheckpoint(path: String, reason: String)
    /// The model cannot be trained (not a float sentence-transformers folder) or cannot be read or written.
    case model(EmbeddingGemmaError)
    /// Training was cancelled after `step` steps; the checkpoint at `checkpoint` (when one was asked for) resumes it.
    case cancelled(step: Int, checkpoint: String?)

    public var description: String {
        switch self {
        case let .invalidData(path, line, reason):
            return "\(path):\(line): \(reason)"
        case let .tooFewExamples(count, batchSize):
            return "\(count) training example\(count == 1 ? "" : "s") is fewer than one batch of \(batchSize): "
                + "in-batch negatives need a full batch (use a smaller batch size or more examples)"
        case let .singleExampleLabels(labels):
            return "label\(labels.count == 1 ? "" : "s") \(labels.map { "\"\($0)\"" }.joined(separator: ", ")) "
                + "\(labels.count == 1 ? "has" : "have") only one text: a positive from the same label cannot be drawn "
                + "(add examples or remove those lines)"
        case let .diverged(step, loss, checkpoint):
            return "training diverged at step \(step) (loss \(loss)); the weights before that step were kept"
                + (checkpoint.map { " in the checkpoint \($0)" } ?? "") + ": lower the learning rate"
        case let .insufficientMemory(needed, available, batchSize, fitting):
            let mb = { (bytes: Int) in "\(bytes / 1_000_000) MB" }
            return "a batch of \(batchSize) needs about \(mb(needed)) but \(mb(available)) is available; "
                + (fitting > 0 ? "a batch size of \(fitting) fits" : "not even a batch of 2 fits (shorter texts would)")
        case let .outputExists(path):
            return "\(path) already exists (overwriting it must be asked for)"
        case let .invalidCheckpoint(path, reason):
            return "checkpoint \(path): \(reason)"
        case let .model(error):
            return error.description
        case let .cancelled(step, checkpoint):
            return "training stopped after step \(step)" + (checkpoint.map { "; the checkpoint \($0) resumes it" } ?? "")
        }
    }
}
