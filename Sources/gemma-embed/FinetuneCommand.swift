import ArgumentParser
import EmbeddingGemma
import Foundation
import GemmaClassify

/// `gemma-embed finetune`: contrastive fine-tuning on pairs or labelled texts, written as a
/// sentence-transformers folder every verb loads with `--model`.
struct FinetuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finetune",
        abstract: "Fine-tune the model on pairs or labelled texts (MultipleNegativesRankingLoss, AdamW) and write a model folder.",
        discussion: """
            --pairs: JSON Lines of {"anchor", "positive"[, "negative"]}. --labelled: JSON Lines of {"text", "label"}; each \
            text is paired with a random other text of its label, with the Classification prompt on both sides by default. \
            Ctrl-C saves a checkpoint; --resume continues from it exactly.
            """
    )

    @Option(name: .long, help: "JSON Lines of {\"anchor\", \"positive\"[, \"negative\"]} pairs.")
    var pairs: String?

    @Option(name: .long, help: "JSON Lines of {\"text\", \"label\"} (one positive per text drawn from its label).")
    var labelled: String?

    @Option(name: .long, help: "Base model: a sentence-transformers folder (the default model, or an earlier fine-tune).")
    var model: String?

    @Option(name: .long, help: "Where to write the fine-tuned model folder.")
    var output: String

    @Flag(name: .long, help: "Replace --output if it exists.")
    var overwrite = false

    @Option(name: .long, help: "Passes over the data.")
    var epochs = 1

    @Option(name: .long, help: "Examples per step.")
    var batchSize = 32

    @Option(name: .long, help: "Peak learning rate (AdamW).")
    var learningRate: Float = 2e-5

    @Option(name: .long, help: "Fraction of the steps for the linear warm-up.")
    var warmup = 0.1

    @Flag(name: .long, help: "Sum the loss over 768, 512, 256 and 128 dimensions (MatryoshkaLoss).")
    var matryoshka = false

    @Option(name: .long, help: "Seed of the batch order and drawn positives.")
    var seed: UInt64 = 0

    @Option(name: .long, help: "Prompt name of the anchors (default: query for pairs, Classification for labelled texts; 'none' for none).")
    var anchorPrompt: String?

    @Option(name: .long, help: "Prompt name of the positives and negatives (default: document for pairs, Classification for labelled texts).")
    var positivePrompt: String?

    @Option(name: .long, help: "Evaluation file (pairs: nDCG@10; labelled texts: logistic-regression accuracy) before and after every epoch.")
    var eval: String?

    @Option(name: .long, help: "Checkpoint folder (default: OUTPUT.checkpoint).")
    var checkpoint: String?

    @Flag(name: .long, help: "Continue from the checkpoint of an interrupted run with the same data and options.")
    var resume = false

    @Option(name: .long, help: "Also write a GGUF file of the result.")
    var gguf: String?

    @Option(name: .long, help: "Encoding of the --gguf file: f32, f16, bf16, q8_0 or q4_0 (Q8_0/Q4_0 calibrated on the training texts).")
    var ggufQuantization = "q8_0"

    func validate() throws {
        guard (pairs == nil) != (labelled == nil) else { throw ValidationError("give exactly one of --pairs and --labelled") }
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1") }
        guard batchSize >= 2 else { throw ValidationError("--batch-size must be at least 2 (in-batch negatives)") }
        guard learningRate > 0, learningRate.isFinite else { throw ValidationError("--learning-rate must be a positive number") }
        guard warmup >= 0, warmup < 1 else { throw ValidationError("--warmup is a fraction of the steps in [0, 1)") }
        guard QuantizationType(rawValue: ggufQuantization.lowercased()) != nil else {
            throw ValidationError("unknown --gguf-quantization '\(ggufQuantization)'")
        }
        if resume, overwrite { throw ValidationError("--resume continues a run; --overwrite is for a new one") }
    }

    private func prompt(_ name: String?, default fallback: String) -> Prompt {
        let value = name ?? fallback
        return value.lowercased() == "none" ? .none : .named(value)
    }

    func run() throws {
        let classification = labelled != nil
        let options = TrainingOptions(
            epochs: epochs, batchSize: batchSize, learningRate: learningRate, warmupRatio: warmup,
            matryoshkaDimensions: matryoshka ? TrainingOptions.matryoshkaWidths : nil, seed: seed,
            anchorPrompt: prompt(anchorPrompt, default: classification ? "Classification" : "query"),
            positivePrompt: prompt(positivePrompt, default: classification ? "Classification" : "document"))
        let data: FineTuneJob.Data = labelled.map { .labelled(path: $0) } ?? .pairs(path: pairs ?? "")
        let quantization = QuantizationType(rawValue: ggufQuantization.lowercased()) ?? .q8_0
        let job = FineTuneJob(model: model, data: data, options: options, evaluation: eval, output: output, overwrite: overwrite,
                              checkpoint: checkpoint, resume: resume, gguf: gguf.map { ($0, quantization) })
        let reporter = FinetuneReporter(resuming: resume)
        let stop = SignalFlag(message: "stopping after this step and saving a checkpoint (again to quit at once)")
        let outcome = Result { () throws(TrainingError) in try job.run(events: reporter.handle, shouldStop: { stop.isRaised }) }
        reporter.bar.finish()
        let result: FineTuneJob.Result
        switch outcome {
        case let .success(value): result = value
        case let .failure(error): throw error.cliError
        }
        let report = result.report
        let losses = report.epochLosses.map { String(format: "%.4f", $0) }.joined(separator: " → ")
        let phases = [report.forwardSeconds, report.backwardSeconds, report.optimizerSeconds].map { String(format: "%.1f", $0) }
        Diagnostics.note("fine-tuned: \(report.steps) steps, mean loss by epoch \(losses), \(Int(report.tokensPerSecond)) tokens/s over "
            + "\(ProgressBar.duration(report.seconds)) (forward \(phases[0]) s, backward \(phases[1]) s, optimiser \(phases[2]) s); "
            + "wrote \(result.output)" + (result.gguf.map { " and \($0)" } ?? ""))
    }
}

/// Shows a fine-tuning job's events: a live bar for the steps, a line per evaluation.
final class FinetuneReporter {
    let bar = ProgressBar()
    private let resuming: Bool

    init(resuming: Bool) { self.resuming = resuming }

    func handle(_ event: FineTuneJob.Event) {
        switch event {
        case let .started(examples, steps, resumedAt, keeps):
            Diagnostics.note("\(examples) examples, \(steps) steps" + (resuming ? ", resuming after step \(resumedAt)" : "")
                + (keeps ? "" : " (activations recomputed layer by layer to fit memory)"))
        case let .step(p):
            bar.update(fraction: Double(p.step) / Double(p.totalSteps),
                       text: "step \(p.step)/\(p.totalSteps)  epoch \(p.epoch)  loss \(String(format: "%.4f", p.loss))  "
                           + "\(Int(p.tokensPerSecond)) tokens/s  ETA \(ProgressBar.duration(p.remainingSeconds))",
                       elapsed: p.elapsedSeconds, final: p.step == p.totalSteps)
        case let .evaluated(epoch, metrics):
            bar.finish()
            let text = metrics.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.4f", $0.value))" }
            Diagnostics.note((epoch == 0 ? "before training: " : "after epoch \(epoch): ") + text.joined(separator: ", "))
        case .saved:
            break
        }
    }
}
