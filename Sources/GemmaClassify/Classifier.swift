import EmbeddingGemma
import Foundation

/// A text classifier: a multinomial logistic-regression head over EmbeddingGemma's vectors at one
/// Matryoshka width, with the prompt it was trained with and the model that made its vectors.
///
/// What is written to disk (`Codable`, JSON) is the head and what it was made with; the model is
/// attached when the file is read (``init(contentsOf:model:)``), after its fingerprint is checked.
///
/// ```swift
/// let model = try EmbeddingModel()
/// let examples = try LabelledExample.read(path: "labelled.jsonl")
/// let classifier = try Classifier.train(examples: examples, model: model, options: .init(dimensions: 256))
/// try classifier.write(to: "clf.json")
/// let prediction = try Classifier(contentsOf: "clf.json", model: model).predict("mach das Licht aus")
/// print(prediction.label, prediction.score)
/// ```
public struct Classifier: Codable, Sendable {
    /// The model whose vectors the head reads.
    public var model: ModelIdentity
    /// Width of those vectors.
    public var dimensions: Int
    /// The prompt in front of every text.
    public var prompt: ClassifierPrompt
    /// The classes, in the order of ``weights`` (sorted, as scikit-learn's `classes_`).
    public var labels: [String]
    /// One row of ``dimensions`` weights per label.
    public var weights: [[Double]]
    /// One intercept per label.
    public var bias: [Double]
    /// How the head was regularised.
    public var regularization: Regularization
    /// How the training went.
    public var training: TrainingSummary

    /// The model predictions embed with (not stored; attached by ``init(contentsOf:model:)``,
    /// ``attached(to:)`` or ``train(examples:model:options:progress:)``).
    public internal(set) var embeddingModel: EmbeddingModel?

    /// The prompt as stored: its name (when it was a named prompt) and its text.
    public struct ClassifierPrompt: Codable, Sendable, Hashable {
        /// The model config's name for it (`Classification`), nil for a literal or no prompt.
        public var name: String?
        /// The text put in front of every input.
        public var text: String

        public init(name: String?, text: String) {
            self.name = name
            self.text = text
        }
    }

    /// The penalty: `½‖W‖² + C · Σ cross-entropy`, intercepts not penalised.
    public struct Regularization: Codable, Sendable, Hashable {
        /// Always `l2`.
        public var penalty: String
        /// Inverse strength.
        public var c: Double

        public init(penalty: String = "l2", c: Double) {
            self.penalty = penalty
            self.c = c
        }
    }

    /// Figures of the fit.
    public struct TrainingSummary: Codable, Sendable, Hashable {
        /// Examples the head was fitted on.
        public var examples: Int
        /// Solver iterations.
        public var iterations: Int
        /// Largest gradient component at the solution.
        public var gradientNorm: Double
        /// Seconds the solver took (after embedding).
        public var seconds: Double

        public init(examples: Int, iterations: Int, gradientNorm: Double, seconds: Double) {
            self.examples = examples
            self.iterations = iterations
            self.gradientNorm = gradientNorm
            self.seconds = seconds
        }

        enum CodingKeys: String, CodingKey {
            case examples, iterations, gradientNorm = "gradient_norm", seconds
        }
    }

    enum CodingKeys: String, CodingKey {
        case model, dimensions, prompt, labels, weights, bias, regularization, training
    }

    /// A head made from its parts (see ``train(examples:model:options:progress:)`` to fit one).
    public init(model: ModelIdentity, dimensions: Int, prompt: ClassifierPrompt, labels: [String], weights: [[Double]], bias: [Double],
                regularization: Regularization, training: TrainingSummary) {
        self.model = model
        self.dimensions = dimensions
        self.prompt = prompt
        self.labels = labels
        self.weights = weights
        self.bias = bias
        self.regularization = regularization
        self.training = training
    }

    /// Reads a classifier file and attaches `model`.
    /// - Throws: ``ClassifyError/file(path:reason:)``, ``ClassifyError/invalidFile(path:field:reason:)``
    ///   for a file of the wrong shape, ``ClassifyError/modelMismatch(stored:given:)`` when `model`
    ///   is not the one the head was trained with.
    public init(contentsOf path: String, model: EmbeddingModel) throws(ClassifyError) {
        self = try Self.read(path: path).attached(to: model)
    }

    /// Reads a classifier file without a model (``predict(embedding:)`` works; text predictions
    /// need ``attached(to:)``).
    public static func read(path: String) throws(ClassifyError) -> Classifier {
        guard let data = FileManager.default.contents(atPath: path) else { throw .file(path: path, reason: "cannot read the file") }
        let classifier: Classifier
        do {
            classifier = try JSONDecoder().decode(Classifier.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw .invalidFile(path: path, field: (context.codingPath + [key]).map(\.stringValue).joined(separator: "."), reason: "is missing")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw .invalidFile(path: path, field: context.codingPath.map(\.stringValue).joined(separator: "."), reason: "has the wrong type")
        } catch {
            throw .file(path: path, reason: "not a classifier file (invalid JSON)")
        }
        try classifier.checkShape(path: path)
        return classifier
    }

    /// Writes the classifier as JSON (atomically).
    public func write(to path: String) throws(ClassifyError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .file(path: path, reason: "cannot write the file (\(error.localizedDescription))")
        }
    }

    /// This classifier with `model` to embed texts with.
    /// - Throws: ``ClassifyError/modelMismatch(stored:given:)`` unless `model` has the fingerprint
    ///   the head was trained with.
    public func attached(to model: EmbeddingModel) throws(ClassifyError) -> Classifier {
        let given = ModelIdentity(model)
        guard self.model.matches(given) else { throw .modelMismatch(stored: self.model, given: given) }
        var copy = self
        copy.embeddingModel = model
        return copy
    }

    /// The prompt every input is embedded with.
    public var requestPrompt: Prompt { .literal(prompt.text) }

    /// The labels and probabilities of `texts`, embedded as one batch.
    /// - Throws: ``ClassifyError/noModel`` without an attached model,
    ///   ``ClassifyError/model(index:_:)`` for a text the model cannot embed.
    public func predict(_ texts: [String]) throws(ClassifyError) -> [Prediction] {
        guard let embeddingModel else { throw .noModel }
        let vectors = try TextEmbedder.vectors(texts, model: embeddingModel, prompt: requestPrompt, dimensions: dimensions,
                                               batchSize: max(1, texts.count))
        var predictions: [Prediction] = []
        predictions.reserveCapacity(vectors.count)
        for vector in vectors { predictions.append(try predict(embedding: vector)) }
        return predictions
    }

    /// The label and probabilities of one text.
    public func predict(_ text: String) throws(ClassifyError) -> Prediction {
        try predict([text])[0]
    }

    /// The labels and probabilities of a vector of ``dimensions`` (normalised here).
    /// - Throws: ``ClassifyError/widthMismatch(expected:got:)`` for another width.
    public func predict(embedding: [Float]) throws(ClassifyError) -> Prediction {
        guard embedding.count == dimensions else { throw .widthMismatch(expected: dimensions, got: embedding.count) }
        let x = TextEmbedder.unit(embedding)
        var logits = bias
        for (j, row) in weights.enumerated() {
            var sum = 0.0
            for f in 0..<dimensions { sum += row[f] * x[f] }
            logits[j] += sum
        }
        let probabilities = LogisticRegression.softmax(logits)
        let ranked = zip(labels, probabilities).map { LabelScore(label: $0, score: $1) }
            .enumerated().sorted { $0.element.score != $1.element.score ? $0.element.score > $1.element.score : $0.offset < $1.offset }
            .map(\.element)
        return Prediction(ranked: ranked)
    }

    /// Checks that the stored arrays agree with each other.
    func checkShape(path: String) throws(ClassifyError) {
        guard labels.count >= 2 else { throw .invalidFile(path: path, field: "labels", reason: "must hold at least two labels") }
        guard Set(labels).count == labels.count else { throw .invalidFile(path: path, field: "labels", reason: "holds a label twice") }
        guard dimensions > 0 else {
            throw .invalidFile(path: path, field: "dimensions", reason: "must be a positive width (got \(dimensions))")
        }
        guard weights.count == labels.count else {
            throw .invalidFile(path: path, field: "weights", reason: "has \(weights.count) rows for \(labels.count) labels")
        }
        for (index, row) in weights.enumerated() where row.count != dimensions {
            throw .invalidFile(path: path, field: "weights.\(index)", reason: "has \(row.count) values, not \(dimensions)")
        }
        guard bias.count == labels.count else {
            throw .invalidFile(path: path, field: "bias", reason: "has \(bias.count) values for \(labels.count) labels")
        }
    }
}
