import Foundation
@testable import GemmaClassify
import Testing

/// The trainer against a closed-form optimum, its own optimality condition, and scikit-learn.
@Suite("Logistic regression trainer")
struct LogisticRegressionTests {
    @Test("two classes at ±1 in one dimension: w solves w = 4·σ(−w), b = 0 (scikit-learn's binary objective)")
    func closedForm() throws {
        let fit = try LogisticRegression.fit(features: [[1], [1], [-1], [-1]], labels: [1, 1, 0, 0], classes: 2)
        // ½w² + 4·log(1 + e^−w) is least where w = 4·σ(−w): bisection on the stationarity condition.
        var low = 0.0, high = 4.0
        for _ in 0..<200 {
            let mid = (low + high) / 2
            if mid - 4 / (1 + exp(mid)) < 0 { low = mid } else { high = mid }
        }
        let w = (low + high) / 2
        #expect(abs(w - 1.042597) < 1e-6)
        #expect(abs(fit.weights[1][0] - w / 2) < 1e-8 && abs(fit.weights[0][0] + w / 2) < 1e-8)
        #expect(abs(fit.bias[0]) < 1e-9 && abs(fit.bias[1]) < 1e-9)
        let p = fit.probabilities([1])
        #expect(abs(p[1] - 1 / (1 + exp(-w))) < 1e-9)
    }

    @Test("multinomial: the gradient of ½‖W‖² + C·Σ cross-entropy is zero at the solution")
    func stationary() throws {
        var generator = SplitMix(seed: 7)
        let k = 4, d = 5, n = 24
        let features = (0..<n).map { i in (0..<d).map { f in Double(f == i % k ? 1 : 0) + generator.normal() * 0.8 } }
        let labels = (0..<n).map { $0 % k }
        let c = 2.5
        let fit = try LogisticRegression.fit(features: features, labels: labels, classes: k, options: .init(c: c))
        var gradW = fit.weights
        var gradB = [Double](repeating: 0, count: k)
        for (x, y) in zip(features, labels) {
            let p = fit.probabilities(x)
            for j in 0..<k {
                let r = c * (p[j] - (j == y ? 1 : 0))
                for f in 0..<d { gradW[j][f] += r * x[f] }
                gradB[j] += r
            }
        }
        let largest = (gradW.flatMap { $0 } + gradB).map(abs).max() ?? 1
        #expect(largest < 1e-7, "largest gradient component \(largest)")
        #expect(abs(fit.bias.reduce(0, +)) < 1e-12)
    }

    struct Fixture: Decodable {
        struct Problem: Decodable {
            var name: String
            var c: Double
            var classes: Int
            var features: [[Double]]
            var labels: [Int]
            var weights: [[Double]]
            var bias: [Double]
            var probabilities: [[Double]]
        }
        var problems: [Problem]
    }

    @Test("scikit-learn's coefficients on small fixed problems (multinomial, C=10, binary)")
    func scikitLearn() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/sklearn-logreg.json")
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        #expect(fixture.problems.count == 3)
        for problem in fixture.problems {
            let fit = try LogisticRegression.fit(features: problem.features, labels: problem.labels, classes: problem.classes,
                                                 options: .init(c: problem.c))
            let weightError = zip(fit.weights.flatMap { $0 }, problem.weights.flatMap { $0 }).map { abs($0 - $1) }.max() ?? 1
            let biasError = zip(fit.bias, problem.bias).map { abs($0 - $1) }.max() ?? 1
            let probabilityError = zip(problem.features, problem.probabilities)
                .flatMap { x, p in zip(fit.probabilities(x), p).map { abs($0 - $1) } }.max() ?? 1
            #expect(weightError < 1e-5, "\(problem.name): weights off by \(weightError)")
            #expect(biasError < 1e-5, "\(problem.name): intercepts off by \(biasError)")
            #expect(probabilityError < 1e-6, "\(problem.name): probabilities off by \(probabilityError)")
        }
    }

    @Test("C must be positive; labels must be in range")
    func badSettings() {
        #expect(throws: ClassifyError.invalidSetting(name: "C", reason: "must be a positive number (got 0.0)")) {
            try LogisticRegression.fit(features: [[1], [0]], labels: [0, 1], classes: 2, options: .init(c: 0))
        }
        #expect(throws: ClassifyError.self) {
            try LogisticRegression.fit(features: [[1], [0]], labels: [0, 2], classes: 2)
        }
    }
}

/// A small deterministic generator for test data.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }

    mutating func normal() -> Double {
        (-2 * log(max(uniform(), 1e-300))).squareRoot() * cos(2 * Double.pi * uniform())
    }
}
