import ArgumentParser
import EmbeddingGemma
import Foundation
import GemmaClassify

/// `gemma-embed classify`: train a classification head on embeddings, and predict with it.
struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Train a text classifier on labelled examples (logistic regression on embeddings) and predict labels.",
        subcommands: [ClassifyTrainCommand.self, ClassifyPredictCommand.self]
    )
}

/// The prompt options of `classify train` and `route`: a named prompt or a literal one.
struct ClassifyPromptOptions: ParsableArguments {
    @Option(name: .long, help: "Named prompt from the model's config (default: Classification).")
    var prompt: String?

    @Option(name: .customLong("prompt-text"), help: "Literal prompt prefix (wins over --prompt; '' for none).")
    var promptText: String?

    @Option(name: .long, help: "Matryoshka dimensions: 768, 512, 256 or 128.")
    var dimensions: Int?

    /// The prompt chosen.
    var value: Prompt {
        promptText.map(Prompt.literal) ?? prompt.map(Prompt.named) ?? ClassifierOptions.classificationPrompt
    }

    func validate() throws {
        do {
            _ = try EmbeddingModel.validate(dimensions: dimensions)
        } catch {
            throw ValidationError(error.description)
        }
    }
}

/// One prediction as a JSON line: `{"label", "score", "scores": {label: p}}`, scores most probable first.
struct PredictionRecord: Encodable {
    var prediction: Prediction
    var top: Int?

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(prediction.label, forKey: Key("label"))
        try container.encode(prediction.score, forKey: Key("score"))
        var scores = container.nestedContainer(keyedBy: Key.self, forKey: Key("scores"))
        for entry in prediction.top(top ?? prediction.ranked.count) {
            try scores.encode(entry.score, forKey: Key(entry.label))
        }
    }

    /// The record as one line of JSON.
    func jsonLine() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
