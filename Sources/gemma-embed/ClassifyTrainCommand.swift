import ArgumentParser
import EmbeddingGemma
import Foundation
import GemmaClassify

/// `gemma-embed classify train`: fits a head on a JSON Lines file of `{"text", "label"}` and writes it.
struct ClassifyTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a classifier: multinomial logistic regression (L2, C=1 as scikit-learn) on the examples' embeddings.",
        discussion: "Each line of --examples is {\"text\": ..., \"label\": ...}; every label needs at least two examples."
    )

    @Option(name: .long, help: "JSON Lines file of {\"text\", \"label\"} examples.")
    var examples: String

    @Option(name: .long, help: "Where to write the classifier (JSON).")
    var output: String

    @OptionGroup var promptOptions: ClassifyPromptOptions

    @Option(name: .customLong("c"), help: "Inverse regularisation strength (scikit-learn's C).")
    var c: Double = 1

    @OptionGroup var modelOptions: ModelOptions

    func validate() throws {
        guard c > 0, c.isFinite else { throw ValidationError("--c must be a positive number") }
    }

    func run() throws {
        let bar = ProgressBar()
        let classifier: Classifier
        do {
            let examples = try LabelledExample.read(path: self.examples)
            _ = try LabelledExample.validate(examples)
            let model = try modelOptions.load()
            classifier = try Classifier.train(examples: examples, model: model,
                                              options: ClassifierOptions(dimensions: promptOptions.dimensions, prompt: promptOptions.value, c: c)) {
                bar.update(done: $0.done, total: $0.total, elapsed: $0.elapsed, what: "examples")
            }
            bar.finish()
            try classifier.write(to: output)
        } catch let error as ClassifyError {
            bar.finish()
            throw error.cliError
        }
        let head = classifier.training
        Diagnostics.note("trained on \(head.examples) examples, \(classifier.labels.count) labels, \(classifier.dimensions) dimensions: "
            + "\(head.iterations) iterations in \((head.seconds * 1000).rounded() / 1000) s after embedding; wrote \(output)")
    }
}
