import Foundation
import Testing
@testable import EmbeddingGemma
import EmbeddingGemmaTestSupport

/// The backward pass through the whole model on the tiny random model: the training forward
/// against the inference forward, and every tensor's gradient of the ranking loss against
/// central finite differences of the forward.
@Suite("Backward pass on a tiny random model")
struct BackwardPassTests {
    static let folder: String = {
        // Force-unwrapping is acceptable in tests: a failure here fails the suite.
        try! TinyModel.write()
    }()

    /// Anchor and positive sequences of random tokens: lengths up to 14, beyond the sliding
    /// window (|i − j| ≤ 4), so both kinds of layers are exercised.
    static func sequences(seed: UInt64) -> (anchors: [[Int32]], positives: [[Int32]]) {
        var state = seed
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33) % bound
        }
        let make = { (count: Int) in (0..<count).map { _ in (0..<(3 + next(12))).map { _ in Int32(next(TinyModel.vocabularySize)) } } }
        return (make(3), make(3))
    }

    /// The ranking loss of the model's embeddings of the pairs, and optionally its gradients.
    static func loss(_ weights: TrainableWeights, _ pairs: (anchors: [[Int32]], positives: [[Int32]]),
                     gradients: Gradients? = nil, budget: Int = 1 << 30) -> Double {
        let pass = TrainingPass(weights: weights, rotary: TrainingPass.Rotary(config: weights.config),
                                sequences: pairs.anchors + pairs.positives, activationBudget: budget)
        let embeddings = pass.forward()
        let b = pairs.anchors.count
        let result = RankingLoss(scale: 20).evaluate(anchors: Array(embeddings.prefix(b)), positives: Array(embeddings.suffix(b)))
        if let gradients {
            pass.backward(result.anchors + result.positives, into: gradients)
        }
        return result.loss
    }

    @Test("the training forward gives the inference embeddings")
    func forwardMatchesInference() throws {
        let folder = try ModelFolder(path: Self.folder)
        let model = try EmbeddingModel(folder: folder)
        let weights = try TrainableWeights(folder: folder)
        let pairs = Self.sequences(seed: 5)
        let sequences = pairs.anchors + pairs.positives
        let pass = TrainingPass(weights: weights, rotary: TrainingPass.Rotary(config: weights.config), sequences: sequences,
                                activationBudget: 1 << 30)
        let training = pass.forward()
        let inference = model.run(sequences)
        let viewed = weights.inferenceModel(folder: folder, tokenizer: model.tokenizer).run(sequences)
        for (a, b) in zip(training, inference) {
            let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 1
            #expect(worst < 2e-6, "training and inference embeddings differ by \(worst)")
        }
        #expect(viewed == inference, "a model over the training weights computes what the loaded model does")
    }

    @Test("every tensor's gradient matches central finite differences")
    func gradientsMatchFiniteDifferences() throws {
        let folder = try ModelFolder(path: Self.folder)
        let weights = try TrainableWeights(folder: folder)
        let pairs = Self.sequences(seed: 11)
        let gradients = Gradients(weights: weights)
        let base = Self.loss(weights, pairs, gradients: gradients)
        #expect(base > 0.1 && base.isFinite)
        var rows: [Int32: Int] = [:]
        for (row, slot) in gradients.sortedEmbeddingRows { rows[row] = slot }
        let embeddingValues = gradients.withEmbeddingValues { Array($0) }
        let h = weights.config.hiddenSize
        let step: Float = 1e-2
        var checked = 0
        for index in weights.tensors.indices {
            let tensor = weights[index]
            var analytic: [Float] = []
            var numeric: [Float] = []
            // The embedding table: every used row and two unused ones (whose gradient is zero).
            let positions: [Int]
            if index == weights.embedding {
                let unused = (0..<TinyModel.vocabularySize).filter { rows[Int32($0)] == nil }.prefix(2)
                positions = (Array(rows.keys.map(Int.init).sorted()) + unused).flatMap { r in (0..<h).map { r * h + $0 } }
            } else {
                positions = Array(0..<tensor.count)
            }
            for position in positions {
                if index == weights.embedding {
                    let row = Int32(position / h)
                    analytic.append(rows[row].map { embeddingValues[$0 * h + position % h] } ?? 0)
                } else {
                    analytic.append(gradients[index][position])
                }
                let saved = tensor.values[position]
                tensor.values[position] = saved + step
                let plus = Self.loss(weights, pairs)
                tensor.values[position] = saved - step
                let minus = Self.loss(weights, pairs)
                tensor.values[position] = saved
                numeric.append(Float((plus - minus) / Double(2 * step)))
            }
            let difference = zip(analytic, numeric).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
            let norm = numeric.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
            #expect(norm > 0, "\(tensor.name): the loss depends on it")
            #expect(difference <= 0.01 * norm, "\(tensor.name): gradient off by \(difference) (norm \(norm))")
            if ProcessInfo.processInfo.environment["GEMMA_PRINT_GRADIENT_ERRORS"] == "1" {
                print("\(tensor.name): relative error \(difference / norm)")
            }
            checked += positions.count
        }
        let embeddingCount = weights[weights.embedding].count
        #expect(checked == weights.parameterCount - embeddingCount + (rows.count + 2) * h)
    }

    @Test("recomputing activations layer by layer gives the same gradients as keeping them")
    func recomputationIsExact() throws {
        let folder = try ModelFolder(path: Self.folder)
        let weights = try TrainableWeights(folder: folder)
        let pairs = Self.sequences(seed: 3)
        let kept = Gradients(weights: weights), recomputed = Gradients(weights: weights)
        let a = Self.loss(weights, pairs, gradients: kept, budget: 1 << 30)
        let b = Self.loss(weights, pairs, gradients: recomputed, budget: 0)
        #expect(a == b)
        for index in weights.tensors.indices where index != weights.embedding {
            let count = weights[index].count
            #expect(Array(UnsafeBufferPointer(start: kept[index], count: count))
                    == Array(UnsafeBufferPointer(start: recomputed[index], count: count)), "\(weights[index].name)")
        }
        #expect(kept.withEmbeddingValues { Array($0) } == recomputed.withEmbeddingValues { Array($0) })
    }

    @Test("the GELU backward on every kernel this CPU runs matches its double-precision derivative")
    func geluBackwardLanes() {
        let count = 1000
        let gate = (0..<count).map { Float($0 - 500) / 60 }   // −8.3 … 8.3
        let up = (0..<count).map { Float(($0 * 37) % 101 - 50) / 25 }
        let dm = (0..<count).map { Float(($0 * 53) % 97 - 48) / 30 }
        for lanes in Kernels.availableLanes {
            var dGate = [Float](repeating: 0, count: count), dUp = [Float](repeating: 0, count: count)
            BackwardKernels.geluMultiply(gate: gate, up: up, gradient: dm, gateGradient: &dGate, upGradient: &dUp, count: count, lanes: lanes)
            for i in 0..<count {
                let x = Double(gate[i])
                let t = tanh(0.7978845608028654 * (x + 0.044715 * x * x * x))
                let gelu = 0.5 * x * (1 + t)
                let derivative = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * 0.7978845608028654 * (1 + 3 * 0.044715 * x * x)
                #expect(abs(Double(dUp[i]) - Double(dm[i]) * gelu) <= 1e-5 * (1 + abs(Double(dm[i]) * gelu)), "\(lanes) up \(i)")
                let expected = Double(dm[i]) * Double(up[i]) * derivative
                #expect(abs(Double(dGate[i]) - expected) <= 1e-5 * (1 + abs(expected)), "\(lanes) gate \(i): \(dGate[i]) vs \(expected)")
            }
        }
    }
}
