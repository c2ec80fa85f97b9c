import EmbeddingGemma

extension Classifier {
    /// Trains a classifier: embeds every example (at ``ClassifierOptions/dimensions``, with
    /// ``ClassifierOptions/prompt``; Matryoshka-cut vectors are renormalised), then fits
    /// ``LogisticRegression`` on the unit vectors.
    /// - Parameter progress: called after every batch of embedded examples.
    /// - Returns: the classifier, attached to `model`.
    /// - Throws: ``ClassifyError`` for a bad training set (``LabelledExample/validate(_:)``), a
    ///   width the model does not have, an unknown prompt, or a text the model cannot embed (the
    ///   example's line).
    public static func train(examples: [LabelledExample], model: EmbeddingModel, options: ClassifierOptions = ClassifierOptions(),
                             progress: ((EmbeddingProgress) -> Void)? = nil) throws(ClassifyError) -> Classifier {
        let labels = try LabelledExample.validate(examples)
        guard options.c > 0, options.c.isFinite else { throw .invalidSetting(name: "C", reason: "must be a positive number (got \(options.c))") }
        let width: Int, promptText: String
        do {
            width = try model.validate(dimensions: options.dimensions)
            promptText = try model.promptText(options.prompt)
        } catch {
            throw .model(index: nil, error)
        }
        let vectors: [[Float]]
        do {
            vectors = try TextEmbedder.vectors(examples.map(\.text), model: model, prompt: .literal(promptText), dimensions: width,
                                               batchSize: options.batchSize, progress: progress)
        } catch {
            if case .model(let index?, let cause) = error {
                throw .invalidLine(line: examples[index].line, reason: cause.description)
            }
            throw error
        }
        let promptName: String? = if case .named(let name) = options.prompt { name } else { nil }
        var classifier = try fit(embeddings: vectors, labels: examples.map(\.label), classes: labels, model: ModelIdentity(model),
                                 prompt: ClassifierPrompt(name: promptName, text: promptText), options: options)
        classifier.embeddingModel = model
        return classifier
    }

    /// Fits a head on vectors already embedded (each of the same width; normalised here).
    /// - Parameters:
    ///   - labels: each vector's label.
    ///   - classes: the labels in the head's order (every one of `labels` among them).
    ///   - model, prompt: what the vectors were made with, recorded in the head.
    public static func fit(embeddings: [[Float]], labels: [String], classes: [String], model: ModelIdentity, prompt: ClassifierPrompt,
                           options: ClassifierOptions = ClassifierOptions()) throws(ClassifyError) -> Classifier {
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        var targets: [Int] = []
        for label in labels {
            guard let target = index[label] else { throw .invalidSetting(name: "labels", reason: "'\(label)' is not one of the classes") }
            targets.append(target)
        }
        let start = ContinuousClock.now
        let fit = try LogisticRegression.fit(features: embeddings.map(TextEmbedder.unit), labels: targets, classes: classes.count,
                                             options: .init(c: options.c, gradientTolerance: options.gradientTolerance))
        let elapsed = start.duration(to: .now)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return Classifier(model: model, dimensions: embeddings.first?.count ?? 0, prompt: prompt, labels: classes,
                          weights: fit.weights, bias: fit.bias, regularization: Regularization(penalty: "l2", c: options.c),
                          training: TrainingSummary(examples: embeddings.count, iterations: fit.iterations, gradientNorm: fit.gradientNorm,
                                                    seconds: seconds))
    }
}
