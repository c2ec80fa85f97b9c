import Foundation
import Testing
@testable import EmbeddingGemma

/// Training on the real model: the training forward against inference, and one batch's loss and
/// every tensor's gradient against PyTorch autograd through sentence-transformers'
/// `MultipleNegativesRankingLoss` on the same weights and pairs (made by
/// `scripts/gradient-reference.py`; its file and pairs are named by `GEMMA_GRADIENT_REFERENCE`
/// and `GEMMA_GRADIENT_PAIRS`).
@Suite("Training against the reference", .serialized, .enabled(if: Golden.modelAvailable, "model missing"))
struct TrainingReferenceTests {
    static var referencePaths: (file: String, pairs: String)? {
        let environment = ProcessInfo.processInfo.environment
        guard let file = environment["GEMMA_GRADIENT_REFERENCE"], let pairs = environment["GEMMA_GRADIENT_PAIRS"],
              FileManager.default.fileExists(atPath: file) else { return nil }
        return (file, pairs)
    }

    @Test("the training forward gives the inference embeddings (cosine ≥ 0.99999)")
    func forwardMatchesInference() throws {
        let model = try Golden.loadModel()
        let weights = try TrainableWeights(folder: model.folder)
        let texts = ["Which planet is known as the Red Planet?", "Mars, known for its reddish appearance, is often referred to as the Red Planet.",
                     String(repeating: "A longer document about the sliding window of local attention layers. ", count: 50),
                     "Le modèle doit donner les mêmes vecteurs.", "短いテキスト"]
        let sequences = try texts.map { try model.tokenize($0, prompt: .named("document")).map { Int32($0) } }
        #expect(sequences[2].count > 600, "one sequence is longer than the sliding window")
        let pass = TrainingPass(weights: weights, rotary: TrainingPass.Rotary(config: weights.config), sequences: sequences,
                                activationBudget: 1 << 32)
        let training = pass.forward()
        let inference = model.run(sequences)
        for (index, (a, b)) in zip(training, inference).enumerated() {
            #expect(Golden.cosine(a, b) >= 0.99999, "text \(index): cosine \(Golden.cosine(a, b))")
        }
    }

    @Test("one batch: loss within 1e-4 and every tensor's gradient within 1e-3 of PyTorch",
          .enabled(if: referencePaths != nil || ProcessInfo.processInfo.environment["EMBEDDINGGEMMA_REQUIRE_REFERENCE"] == "1",
                   "GEMMA_GRADIENT_REFERENCE / GEMMA_GRADIENT_PAIRS not set (scripts/gradient-reference.py makes them)"))
    func gradientsMatchPyTorch() throws {
        let paths = try #require(Self.referencePaths, "the gradient reference is missing")
        let model = try Golden.loadModel()
        let weights = try TrainableWeights(folder: model.folder)
        let pairs = Array(try TrainingExample.readPairs(path: paths.pairs).prefix(32))
        let reference = try SafeTensorsFile(path: paths.file)
        let anchors = try pairs.map { try model.tokenize($0.anchor, prompt: .named("query")).map { Int32($0) } }
        let positives = try pairs.map { try model.tokenize($0.positive, prompt: .named("document")).map { Int32($0) } }
        for (index, ids) in anchors.enumerated() {
            if let expected = try? reference.integers("tokens.anchor.\(index)") {
                #expect(ids.map(Int.init) == expected, "anchor \(index) tokenised as the reference")
            }
        }
        let pass = TrainingPass(weights: weights, rotary: TrainingPass.Rotary(config: weights.config), sequences: anchors + positives,
                                activationBudget: 1 << 32)
        let embeddings = pass.forward()
        let result = RankingLoss(scale: 20).evaluate(anchors: Array(embeddings.prefix(pairs.count)), positives: Array(embeddings.suffix(pairs.count)))
        let referenceLoss = try reference.floats("loss", shape: [1]).values[0]
        #expect(abs(result.loss - Double(referenceLoss)) <= 1e-4, "loss \(result.loss) vs PyTorch \(referenceLoss)")
        let gradients = Gradients(weights: weights)
        pass.backward(result.anchors + result.positives, into: gradients)

        var worst: (name: String, error: Double) = ("", 0)
        for index in weights.tensors.indices where index != weights.embedding {
            let tensor = weights[index]
            // sentence-transformers' state-dict names: the backbone under module 0, Dense layers under their index.
            let modules = tensor.file == "model.safetensors" ? ["0.model.", "0.auto_model.", "0.auto_model.model."]
                : [tensor.file.split(separator: "_").first.map { "\($0)." } ?? ""]
            let candidates = modules.flatMap { ["grad." + $0 + tensor.name, $0 + tensor.name] }
            let name = try #require(candidates.first { reference.tensors[$0] != nil }, "no reference gradient for \(tensor.name)")
            let expected = try reference.floats(name, shape: tensor.shape)
            let error = Self.relativeError(gradients[index], expected.pointer, count: tensor.count)
            #expect(error <= 1e-3, "\(name): relative error \(error)")
            if error > worst.error { worst = (name, error) }
        }
        // The token embeddings: the rows the batch used.
        let rows = try reference.integers("grad.embed_tokens.rows")
        let h = weights.config.hiddenSize
        let values = try reference.floats("grad.embed_tokens.values", shape: [rows.count, h])
        let ours = gradients.sortedEmbeddingRows
        #expect(ours.map { Int($0.row) } == rows, "the same embedding rows have a gradient")
        let dense = gradients.withEmbeddingValues { buffer in
            ours.flatMap { Array(buffer[($0.slot * h)..<(($0.slot + 1) * h)]) }
        }
        let embeddingError = dense.withUnsafeBufferPointer { Self.relativeError($0.baseAddress!, values.pointer, count: dense.count) }
        #expect(embeddingError <= 1e-3, "embed_tokens: relative error \(embeddingError)")
        print("gradient check: loss \(result.loss) (PyTorch \(referenceLoss)); worst tensor \(worst.name) \(worst.error); embeddings \(embeddingError)")
    }

    /// ‖a − b‖ / ‖b‖ in double precision.
    static func relativeError(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Double {
        var difference = 0.0, norm = 0.0
        for i in 0..<count {
            let d = Double(a[i]) - Double(b[i])
            difference += d * d
            norm += Double(b[i]) * Double(b[i])
        }
        return (difference / max(norm, 1e-300)).squareRoot()
    }
}
