import Foundation
import EmbeddingGemma

/// What a fine-tune is measured on before training and after every epoch.
///
/// - Classification (an evaluation file of `{"text", "label"}` lines, with labelled training
///   data): a logistic-regression head (``Classifier``) fitted on the training texts, its accuracy
///   on the evaluation texts at 768 and 256 dimensions.
/// - Retrieval (a file of `{"anchor", "positive"}` pairs): each anchor (with the anchor prompt)
///   searches every positive of the file (with the positive prompt); nDCG@10 and MRR@10 of its own.
public enum FineTuneEvaluation: Sendable {
    case classification(train: [TrainingExample.Labelled], test: [TrainingExample.Labelled], options: ClassifierOptions)
    case retrieval(pairs: [TrainingExample], anchorPrompt: Prompt, positivePrompt: Prompt)

    /// Reads an evaluation file: pairs make a retrieval evaluation; labelled texts a classification
    /// one, which needs labelled training texts for its head.
    public static func read(path: String, training: [TrainingExample.Labelled]?, options: TrainingOptions,
                            classifier: ClassifierOptions = ClassifierOptions()) throws(TrainingError) -> FineTuneEvaluation {
        if let pairs = try? TrainingExample.readPairs(path: path), !pairs.isEmpty {
            return .retrieval(pairs: pairs, anchorPrompt: options.anchorPrompt, positivePrompt: options.positivePrompt)
        }
        let test = try TrainingExample.readLabelled(path: path)
        guard let training else {
            throw .invalidData(path: path, line: 0, reason: "a classification evaluation needs labelled training texts to fit its head")
        }
        guard !test.isEmpty else { throw .invalidData(path: path, line: 0, reason: "no evaluation lines") }
        return .classification(train: training, test: test, options: classifier)
    }

    /// The metrics of `model`, by name (`accuracy@768`, `accuracy@256`, or `ndcg@10`, `mrr@10`).
    public func measure(_ model: EmbeddingModel) throws(TrainingError) -> [String: Double] {
        switch self {
        case let .classification(train, test, options):
            var metrics: [String: Double] = [:]
            for width in [768, 256] where width <= model.dimensions {
                var settings = options
                settings.dimensions = width
                do {
                    let examples = train.enumerated().map { LabelledExample(text: $1.text, label: $1.label, line: $0 + 1) }
                    let classifier = try Classifier.train(examples: examples, model: model, options: settings)
                    let predictions = try classifier.predict(test.map(\.text))
                    let correct = zip(predictions, test).filter { $0.label == $1.label }.count
                    metrics["accuracy@\(width)"] = Double(correct) / Double(test.count)
                } catch {
                    throw .model(.invalidInput("classification evaluation: \(error)"))
                }
            }
            return metrics
        case let .retrieval(pairs, anchorPrompt, positivePrompt):
            do {
                let queries = try model.encode(pairs.map(\.anchor), prompt: anchorPrompt)
                let documents = try model.encode(pairs.map(\.positive), prompt: positivePrompt)
                var ndcg = 0.0, mrr = 0.0
                for (index, query) in queries.enumerated() {
                    let own = VectorMath.dot(query, documents[index])
                    // Rank of the query's own positive (ties counted against it).
                    let rank = documents.indices.filter { $0 != index && VectorMath.dot(query, documents[$0]) >= own }.count + 1
                    if rank <= 10 {
                        ndcg += 1 / log2(Double(rank) + 1)
                        mrr += 1 / Double(rank)
                    }
                }
                return ["ndcg@10": ndcg / Double(pairs.count), "mrr@10": mrr / Double(pairs.count)]
            } catch {
                throw .model(error)
            }
        }
    }
}
