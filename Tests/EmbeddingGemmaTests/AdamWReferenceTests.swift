import Foundation
import Testing
@testable import EmbeddingGemma

/// AdamW, its learning-rate schedule and gradient clipping against `torch.optim.AdamW` driven the
/// way Hugging Face's trainer drives it (`Fixtures/adamw-reference.json`, written by
/// `scripts/gradient-reference.py --adamw-fixture`): three tensors, one of them without weight
/// decay, three steps with clipping before each, the schedule's first step at rate 0, and zero
/// gradient rows that still move.
@Suite("AdamW against torch")
struct AdamWReferenceTests {
    struct Fixture: Decodable {
        struct Optimizer: Decodable {
            let lr: Float
            let betas: [Float]
            let eps: Float
            let weight_decay: [String: Float]
        }
        struct Schedule: Decodable {
            let warmup_steps: Int
            let total_steps: Int
        }
        struct Step: Decodable {
            let learning_rate: Double
            let gradients: [String: [Float]]
            let grad_norm: Double
            let clipped_gradients: [String: [Float]]
            let parameters: [String: [Float]]
            let exp_avg: [String: [Float]]
            let exp_avg_sq: [String: [Float]]
        }
        let optimizer: Optimizer
        let schedule: Schedule
        let max_grad_norm: Float
        let initial: [String: [Float]]
        let steps: [Step]
    }

    static let fixture: Fixture = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/adamw-reference.json")
        // A missing or broken fixture fails every test that reads it.
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }()

    /// The largest absolute difference between two tensors.
    static func distance(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "tensor sizes differ")
        return zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }

    @Test("three steps give torch's rates, norms, clipped gradients, parameters and moments")
    func matchesTorch() throws {
        let fixture = Self.fixture
        let names = ["norm", "weight", "embedding"]
        let optimiser = AdamW(beta1: fixture.optimizer.betas[0], beta2: fixture.optimizer.betas[1],
                              epsilon: fixture.optimizer.eps, weightDecay: fixture.optimizer.weight_decay["weight"] ?? 0)
        var parameters = try names.map { try #require(fixture.initial[$0]) }
        var states = parameters.map { AdamW.State(count: $0.count) }
        for (index, step) in fixture.steps.enumerated() {
            let rate = AdamW.learningRate(base: fixture.optimizer.lr, step: index, total: fixture.schedule.total_steps,
                                          warmup: fixture.schedule.warmup_steps)
            #expect(abs(Double(rate) - step.learning_rate) < 1e-8, "step \(index + 1): rate \(rate)")
            var gradients = try names.map { try #require(step.gradients[$0]) }
            let norm = AdamW.clip(&gradients, maxNorm: fixture.max_grad_norm)
            #expect(abs(Double(norm) - step.grad_norm) < 1e-5 * step.grad_norm, "step \(index + 1): norm \(norm)")
            for (k, name) in names.enumerated() {
                let decays = (fixture.optimizer.weight_decay[name] ?? 0) > 0
                #expect(Self.distance(gradients[k], try #require(step.clipped_gradients[name])) < 1e-6)
                optimiser.step(&parameters[k], gradients: gradients[k], state: &states[k], rate: rate, decays: decays)
                #expect(Self.distance(parameters[k], try #require(step.parameters[name])) < 2e-6, "step \(index + 1) \(name)")
                #expect(Self.distance(states[k].m, try #require(step.exp_avg[name])) < 1e-7, "step \(index + 1) \(name) m")
                #expect(Self.distance(states[k].v, try #require(step.exp_avg_sq[name])) < 1e-8, "step \(index + 1) \(name) v")
            }
        }
    }
}
