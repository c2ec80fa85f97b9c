import Foundation

/// Multinomial logistic regression with an L2 penalty, as scikit-learn's `LogisticRegression()`
/// fits it by default: the objective is `½‖W‖² + C · Σᵢ cross-entropy(softmax(W xᵢ + b), yᵢ)`,
/// the intercepts `b` are not penalised; with two classes scikit-learn fits one binary model
/// (`½‖w‖² + C · Σ log-loss`), and so does this (returned as the two rows `−w/2`, `w/2`, whose
/// softmax is the same sigmoid). Solved in float64 with L-BFGS to a gradient of at most
/// ``Options/gradientTolerance`` in every component.
public struct LogisticRegression: Sendable, Hashable {
    /// One row of weights per class, each as wide as the features.
    public var weights: [[Double]]
    /// One intercept per class (centred: they sum to zero; the probabilities are unchanged).
    public var bias: [Double]
    /// L-BFGS iterations taken.
    public var iterations: Int
    /// The largest gradient component at the solution.
    public var gradientNorm: Double
    /// The objective at the solution.
    public var objective: Double

    /// Solver settings.
    public struct Options: Sendable, Hashable {
        /// Inverse regularisation strength (scikit-learn's `C`; 1 by default).
        public var c: Double
        /// Stop when no gradient component exceeds this.
        public var gradientTolerance: Double
        /// Stop after this many iterations.
        public var maxIterations: Int

        public init(c: Double = 1, gradientTolerance: Double = 1e-8, maxIterations: Int = 10_000) {
            self.c = c
            self.gradientTolerance = gradientTolerance
            self.maxIterations = maxIterations
        }
    }

    /// Fits the model.
    /// - Parameters:
    ///   - features: one row per example, all of the same width.
    ///   - labels: each example's class, in `0..<classes`.
    ///   - classes: how many classes (at least two).
    /// - Throws: ``ClassifyError/invalidSetting(name:reason:)`` for a non-positive `C`, fewer than
    ///   two classes, ragged rows or labels out of range.
    public static func fit(features: [[Double]], labels: [Int], classes: Int, options: Options = Options()) throws(ClassifyError) -> LogisticRegression {
        guard options.c > 0, options.c.isFinite else { throw .invalidSetting(name: "C", reason: "must be a positive number (got \(options.c))") }
        guard classes >= 2 else { throw .invalidSetting(name: "classes", reason: "at least two are needed") }
        guard features.count == labels.count, !features.isEmpty else {
            throw .invalidSetting(name: "features", reason: "\(features.count) rows for \(labels.count) labels")
        }
        let width = features[0].count
        guard features.allSatisfy({ $0.count == width }) else { throw .invalidSetting(name: "features", reason: "rows of different widths") }
        guard labels.allSatisfy({ (0..<classes).contains($0) }) else { throw .invalidSetting(name: "labels", reason: "a label outside 0..<\(classes)") }
        let problem = Problem(x: features.flatMap { $0 }, y: labels, n: labels.count, d: width)
        var solver = LBFGS()
        solver.gradientTolerance = options.gradientTolerance
        solver.maxIterations = options.maxIterations
        if classes == 2 {
            // scikit-learn's binary model: one weight row w for class 1 against class 0.
            let outcome = solver.minimize(from: [Double](repeating: 0, count: width + 1)) { problem.binary($0, c: options.c) }
            let w = Array(outcome.point[0..<width]), b = outcome.point[width]
            return LogisticRegression(weights: [w.map { -$0 / 2 }, w.map { $0 / 2 }], bias: [-b / 2, b / 2],
                                      iterations: outcome.iterations, gradientNorm: outcome.gradientNorm, objective: outcome.value)
        }
        let outcome = solver.minimize(from: [Double](repeating: 0, count: classes * (width + 1))) { problem.multinomial($0, k: classes, c: options.c) }
        let weights = (0..<classes).map { Array(outcome.point[($0 * width)..<(($0 + 1) * width)]) }
        var bias = Array(outcome.point[(classes * width)...])
        let mean = bias.reduce(0, +) / Double(classes)
        bias = bias.map { $0 - mean }
        return LogisticRegression(weights: weights, bias: bias, iterations: outcome.iterations, gradientNorm: outcome.gradientNorm, objective: outcome.value)
    }

    /// The class probabilities of one feature row (softmax of `W x + b`).
    public func probabilities(_ x: [Double]) -> [Double] {
        Self.softmax(zip(weights, bias).map { row, b in zip(row, x).reduce(b) { $0 + $1.0 * $1.1 } })
    }

    static func softmax(_ z: [Double]) -> [Double] {
        let top = z.max() ?? 0
        let e = z.map { exp($0 - top) }
        let sum = e.reduce(0, +)
        return e.map { $0 / sum }
    }

    init(weights: [[Double]], bias: [Double], iterations: Int, gradientNorm: Double, objective: Double) {
        self.weights = weights
        self.bias = bias
        self.iterations = iterations
        self.gradientNorm = gradientNorm
        self.objective = objective
    }
}

/// The training data, flat, and the objectives with their gradients.
private struct Problem {
    let x: [Double]
    let y: [Int]
    let n: Int
    let d: Int

    /// `½‖W‖² + C Σ CE` and its gradient; parameters are `W` (k rows of d) then `b` (k).
    func multinomial(_ theta: [Double], k: Int, c: Double) -> (value: Double, gradient: [Double]) {
        var gradient = [Double](repeating: 0, count: theta.count)
        var value = 0.0
        theta.withUnsafeBufferPointer { t in
            x.withUnsafeBufferPointer { xs in
                gradient.withUnsafeMutableBufferPointer { g in
                    for i in 0..<(k * d) {
                        value += 0.5 * t[i] * t[i]
                        g[i] = t[i]
                    }
                    var z = [Double](repeating: 0, count: k)
                    for s in 0..<n {
                        let row = s * d
                        var top = -Double.infinity
                        for j in 0..<k {
                            let w = j * d
                            var sum = t[k * d + j]
                            for f in 0..<d { sum += t[w + f] * xs[row + f] }
                            z[j] = sum
                            top = max(top, sum)
                        }
                        var total = 0.0
                        for j in 0..<k {
                            z[j] = exp(z[j] - top)
                            total += z[j]
                        }
                        value += c * (log(total) + top - (log(z[y[s]]) + top))
                        for j in 0..<k {
                            let r = c * (z[j] / total - (j == y[s] ? 1 : 0))
                            let gw = j * d
                            for f in 0..<d { g[gw + f] += r * xs[row + f] }
                            g[k * d + j] += r
                        }
                    }
                }
            }
        }
        return (value, gradient)
    }

    /// `½‖w‖² + C Σ log(1 + exp(−ỹ (w·x + b)))` with ỹ = ±1 (class 1 against 0) and its gradient;
    /// parameters are `w` then `b`.
    func binary(_ theta: [Double], c: Double) -> (value: Double, gradient: [Double]) {
        var gradient = [Double](repeating: 0, count: theta.count)
        var value = 0.0
        theta.withUnsafeBufferPointer { t in
            x.withUnsafeBufferPointer { xs in
                gradient.withUnsafeMutableBufferPointer { g in
                    for i in 0..<d {
                        value += 0.5 * t[i] * t[i]
                        g[i] = t[i]
                    }
                    for s in 0..<n {
                        let row = s * d
                        var z = t[d]
                        for f in 0..<d { z += t[f] * xs[row + f] }
                        let sign: Double = y[s] == 1 ? 1 : -1
                        let m = sign * z
                        // log(1 + e^−m), stable for both signs.
                        value += c * (m > 0 ? log1p(exp(-m)) : -m + log1p(exp(m)))
                        let r = -c * sign / (1 + exp(m))
                        for f in 0..<d { g[f] += r * xs[row + f] }
                        g[d] += r
                    }
                }
            }
        }
        return (value, gradient)
    }
}
