import Foundation
import Testing
@testable import EmbeddingGemma

/// The training objective's pieces on small inputs: the ranking loss's gradient against central
/// finite differences (plain and Matryoshka, with hard negatives), AdamW's step, schedule and
/// clipping against their definitions, and batches without duplicate texts.
@Suite("Training objective")
struct TrainingObjectiveTests {
    /// Deterministic pseudo-random vectors.
    static func vectors(_ count: Int, width: Int, seed: UInt64) -> [[Float]] {
        var state = seed
        return (0..<count).map { _ in
            (0..<width).map { _ in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return Float(Int64(bitPattern: state >> 11) % 2000) / 1000 - 1
            }
        }
    }

    @Test("the ranking loss's gradient matches central finite differences", arguments: [nil, [8, 4, 2]] as [[Int]?])
    func rankingGradient(dimensions: [Int]?) {
        let loss = RankingLoss(scale: 20, dimensions: dimensions)
        let anchors = Self.vectors(4, width: 8, seed: 1)
        let positives = Self.vectors(4, width: 8, seed: 2)
        let negatives = Self.vectors(4, width: 8, seed: 3)
        let result = loss.evaluate(anchors: anchors, positives: positives, negatives: negatives)
        #expect(result.loss > 0 && result.loss.isFinite)
        var inputs = [anchors, positives, negatives]
        let analytic = [result.anchors, result.positives, result.negatives]
        let step: Float = 1e-3
        var worst = 0.0
        for group in 0..<3 {
            for row in 0..<4 {
                for k in 0..<8 {
                    let original = inputs[group][row][k]
                    inputs[group][row][k] = original + step
                    let up = loss.evaluate(anchors: inputs[0], positives: inputs[1], negatives: inputs[2]).loss
                    inputs[group][row][k] = original - step
                    let down = loss.evaluate(anchors: inputs[0], positives: inputs[1], negatives: inputs[2]).loss
                    inputs[group][row][k] = original
                    let numeric = (up - down) / (2 * Double(step))
                    worst = max(worst, abs(numeric - Double(analytic[group][row][k])))
                }
            }
        }
        #expect(worst < 2e-3, "largest difference \(worst)")
    }

    @Test("the ranking loss is the mean cross-entropy of the scaled cosines")
    func rankingValue() {
        // Two orthogonal pairs: each anchor equals its positive; the other candidate is orthogonal.
        let loss = RankingLoss(scale: 20)
        let result = loss.evaluate(anchors: [[1, 0], [0, 2]], positives: [[3, 0], [0, 1]])
        let easy = log(1 + exp(-20.0))
        #expect(abs(result.loss - easy) < 1e-12)
        // Matryoshka over widths 2 and 1: the second width sees [1] vs [0] (cosine of a zero vector: 0).
        let nested = RankingLoss(scale: 20, dimensions: [2, 1]).evaluate(anchors: [[1, 0], [0, 2]], positives: [[3, 0], [0, 1]])
        let widthOne = (easy + log(2.0)) / 2
        #expect(abs(nested.loss - (easy + widthOne)) < 1e-9)
    }

    @Test("AdamW's step is torch.optim.AdamW's update, decay only where asked")
    func adamStep() {
        let optimiser = AdamW()
        var parameters: [Float] = [0.5, -1.0, 2.0]
        var state = AdamW.State(count: 3)
        let gradients: [[Float]] = [[0.1, -0.2, 0.3], [0.05, 0.4, -0.1]]
        // The same two steps in double precision, straight from the algorithm's definition.
        var p: [Double] = [0.5, -1.0, 2.0], m = [0.0, 0, 0], v = [0.0, 0, 0]
        for (t, g) in gradients.enumerated() {
            optimiser.step(&parameters, gradients: g, state: &state, rate: 1e-2, decays: true)
            for i in 0..<3 {
                p[i] *= 1 - 1e-2 * 0.01
                m[i] = 0.9 * m[i] + 0.1 * Double(g[i])
                v[i] = 0.999 * v[i] + 0.001 * Double(g[i]) * Double(g[i])
                let mHat = m[i] / (1 - pow(0.9, Double(t + 1)))
                let vHat = v[i] / (1 - pow(0.999, Double(t + 1)))
                p[i] -= 1e-2 * mHat / (vHat.squareRoot() + 1e-8)
            }
        }
        #expect(state.step == 2)
        for i in 0..<3 { #expect(abs(Double(parameters[i]) - p[i]) < 1e-6) }
        var norm: [Float] = [1, 1]
        var normState = AdamW.State(count: 2)
        optimiser.step(&norm, gradients: [0, 0], state: &normState, rate: 1, decays: false)
        #expect(norm == [1, 1], "no decay and no gradient: unchanged")
    }

    @Test("the learning rate warms up linearly, then decays linearly to zero; clipping keeps the global norm")
    func scheduleAndClipping() {
        let rates = (0..<10).map { AdamW.learningRate(base: 1, step: $0, total: 10, warmup: 2) }
        #expect(rates[0] == 0)
        #expect(rates[1] == 0.5)
        #expect(rates[2] == 1)
        #expect(abs(rates[6] - 0.5) < 1e-7)
        #expect(abs(rates[9] - 0.125) < 1e-7)
        var gradients: [[Float]] = [[3, 0], [0, 4]]
        #expect(AdamW.clip(&gradients, maxNorm: 1) == 5)
        #expect(abs(gradients[0][0] - 0.6) < 1e-6 && abs(gradients[1][1] - 0.8) < 1e-6)
        var small: [[Float]] = [[0.3], [0.4]]
        AdamW.clip(&small, maxNorm: 1)
        #expect(small == [[0.3], [0.4]])
    }

    @Test("batches hold no text twice, cover every example once, and repeat for a seed")
    func noDuplicates() {
        let texts = (0..<50).map { ["q\($0 % 20)", "d\($0)"] }
        let batches = NoDuplicatesBatches(texts: texts, batchSize: 8, seed: 7)
        #expect(batches.batches.flatMap { $0 }.sorted() == Array(0..<50))
        for batch in batches.batches {
            let all = batch.flatMap { texts[$0] }
            #expect(Set(all).count == all.count)
            #expect(batch.count <= 8)
        }
        #expect(batches == NoDuplicatesBatches(texts: texts, batchSize: 8, seed: 7))
        #expect(batches != NoDuplicatesBatches(texts: texts, batchSize: 8, seed: 8))
    }
}
