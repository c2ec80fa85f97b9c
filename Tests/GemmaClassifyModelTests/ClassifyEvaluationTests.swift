import EmbeddingGemma
import Foundation
import GemmaClassify
import Testing

/// ../shared/classify-eval (override with `CLASSIFY_EVAL_DIR`) and the real model.
enum ClassifyEval {
    static let directory: String = {
        if let dir = ProcessInfo.processInfo.environment["CLASSIFY_EVAL_DIR"] { return dir }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/classify-eval").path
    }()

    static var available: Bool {
        ProcessInfo.processInfo.environment["EMBEDDINGGEMMA_REQUIRE_MODEL"] == "1"
            || ((try? ModelLocation.resolve(nil)) != nil && FileManager.default.fileExists(atPath: directory + "/reference.json"))
    }

    /// Accuracy and macro-F1 of `predicted` against `truth`.
    static func scores(_ predicted: [String], _ truth: [String]) -> (accuracy: Double, macroF1: Double) {
        let accuracy = Double(zip(predicted, truth).filter { $0 == $1 }.count) / Double(truth.count)
        let labels = Set(truth).union(predicted)
        let f1s = labels.map { label -> Double in
            let tp = Double(zip(predicted, truth).filter { $0 == label && $1 == label }.count)
            let fp = Double(zip(predicted, truth).filter { $0 == label && $1 != label }.count)
            let fn = Double(zip(predicted, truth).filter { $0 != label && $1 == label }.count)
            return tp == 0 ? 0 : 2 * tp / (2 * tp + fp + fn)
        }
        return (accuracy, f1s.reduce(0, +) / Double(labels.count))
    }

    /// The first `width` components of `vector`, renormalised (a Matryoshka cut, as the engine makes it).
    static func cut(_ vector: [Float], _ width: Int) -> [Float] {
        VectorMath.normalized(Array(vector.prefix(width)))
    }
}

@Suite("Classification on classify-eval with the real model", .serialized, .enabled(if: ClassifyEval.available, "model or ../shared/classify-eval missing"))
struct ClassifyEvaluationTests {
    @Test("the trainer's accuracy and macro-F1 at 768 and 256 dimensions are within 0.01 of scikit-learn's (reference.json)")
    func evaluation() throws {
        let model = try EmbeddingModel()
        let train = try LabelledExample.read(path: ClassifyEval.directory + "/train.jsonl")
        let test = try LabelledExample.read(path: ClassifyEval.directory + "/test.jsonl")
        #expect(train.count == 336 && test.count == 336)
        let reference = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: ClassifyEval.directory + "/reference.json"))) as? [String: Any])
        let metrics = try #require(reference["metrics"] as? [String: [String: Double]])

        let prompt = try model.promptText(ClassifierOptions.classificationPrompt)
        let trainVectors = try model.embed(train.map(\.text), prompts: Array(repeating: .literal(prompt), count: train.count))
        let testVectors = try model.embed(test.map(\.text), prompts: Array(repeating: .literal(prompt), count: test.count))
        let labels = try LabelledExample.validate(train)
        for width in [768, 256] {
            let classifier = try Classifier.fit(embeddings: trainVectors.map { ClassifyEval.cut($0.vector, width) }, labels: train.map(\.label),
                                                classes: labels, model: ModelIdentity(model), prompt: .init(name: "Classification", text: prompt))
            let predicted = try testVectors.map { try classifier.predict(embedding: ClassifyEval.cut($0.vector, width)).label }
            let (accuracy, f1) = ClassifyEval.scores(predicted, test.map(\.label))
            let anchor = try #require(metrics["Classification/\(width)"])
            let referenceAccuracy = try #require(anchor["logreg_acc"]), referenceF1 = try #require(anchor["logreg_f1"])
            print("classify-eval \(width): accuracy \(accuracy) (reference \(referenceAccuracy)), macro-F1 \(f1) (reference \(referenceF1)), "
                  + "\(classifier.training.iterations) iterations in \(classifier.training.seconds) s")
            #expect(abs(accuracy - referenceAccuracy) <= 0.01, "\(width): accuracy \(accuracy) vs \(referenceAccuracy)")
            #expect(abs(f1 - referenceF1) <= 0.01, "\(width): macro-F1 \(f1) vs \(referenceF1)")
            #expect(classifier.training.seconds < 2)
        }
    }
}
