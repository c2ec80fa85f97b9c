import ArgumentParser
import EmbeddingGemma
import GemmaClassify

/// `gemma-embed classify predict`: one JSON line `{"label", "score", "scores"}` per input, in order.
struct ClassifyPredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Predict labels with a trained classifier; prints one JSON line {\"label\", \"score\", \"scores\"} per input.",
        discussion: "Without --model, the model the classifier was trained with is loaded from where it was then."
    )

    @Option(name: .long, help: "The classifier file written by `classify train`.")
    var classifier: String

    @OptionGroup var inputs: InputOptions

    @Option(name: .long, help: "List only the N most probable labels in \"scores\".")
    var top: Int?

    @OptionGroup var modelOptions: ModelOptions

    func validate() throws {
        if let top, top < 1 { throw ValidationError("--top must be at least 1") }
    }

    func run() throws {
        let records = try inputs.read()
        let attached: Classifier
        do {
            let head = try Classifier.read(path: classifier)
            let model = modelOptions.model == nil && modelOptions.quantization == nil ? try head.model.load() : try modelOptions.load()
            attached = try head.attached(to: model)
        } catch let error as ClassifyError {
            throw error.cliError
        }
        let predictions = try Self.predict(records, with: attached)
        let writer = try OutputWriter(path: nil)
        for prediction in predictions {
            writer.writeLine(try PredictionRecord(prediction: prediction, top: top).jsonLine())
        }
        writer.flush()
    }

    /// The predictions of `records`, 64 at a time, with a progress bar when there are more.
    static func predict(_ records: [InputRecord], with classifier: Classifier) throws -> [Prediction] {
        var results: [Prediction] = []
        let bar = ProgressBar()
        defer { bar.finish() }
        let start = ContinuousClock.now
        let batch = 64
        for offset in stride(from: 0, to: records.count, by: batch) {
            let slice = Array(records[offset..<min(records.count, offset + batch)])
            let texts = slice.map(\.text)
            let predicted = Result(catching: { () throws(ClassifyError) in try classifier.predict(texts) })
            switch predicted {
            case .success(let predictions):
                results += predictions
            case .failure(let error):
                if case .model(let index?, let cause) = error { throw CLIError("input \(slice[index].line): \(cause.hint)") }
                throw error.cliError
            }
            if records.count > batch {
                let elapsed = start.duration(to: .now)
                bar.update(done: results.count, total: records.count,
                           elapsed: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18, what: "texts")
            }
        }
        return results
    }
}
