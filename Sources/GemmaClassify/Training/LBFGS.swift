/// Limited-memory BFGS for a smooth, strictly convex objective in float64: the two-loop
/// recursion over the last ``memory`` steps, with a backtracking line search (Armijo condition).
struct LBFGS {
    /// Steps remembered.
    var memory = 10
    /// Stop when the largest gradient component is at most this.
    var gradientTolerance = 1e-8
    /// Stop after this many iterations.
    var maxIterations = 10_000

    /// What the minimisation reached.
    struct Outcome {
        var point: [Double]
        var value: Double
        var gradientNorm: Double
        var iterations: Int
        var converged: Bool
    }

    /// Minimises `objective` (value and gradient at a point) from `start`.
    func minimize(from start: [Double], _ objective: ([Double]) -> (value: Double, gradient: [Double])) -> Outcome {
        var x = start
        var (f, g) = objective(x)
        var steps: [(s: [Double], y: [Double], rho: Double)] = []
        var iteration = 0
        while iteration < maxIterations {
            let norm = Self.maxAbs(g)
            if norm <= gradientTolerance {
                return Outcome(point: x, value: f, gradientNorm: norm, iterations: iteration, converged: true)
            }
            var direction = twoLoop(g, steps)
            var slope = Self.dot(direction, g)
            if slope >= 0 {
                // Not a descent direction (lost curvature): restart from steepest descent.
                steps.removeAll()
                direction = g.map { -$0 }
                slope = Self.dot(direction, g)
            }
            var step = steps.isEmpty ? min(1, 1 / Self.maxAbs(direction)) : 1
            var accepted: (x: [Double], f: Double, g: [Double])?
            for _ in 0..<60 {
                let candidate = zip(x, direction).map { $0 + step * $1 }
                let (fc, gc) = objective(candidate)
                // Armijo's sufficient decrease; at the precision floor of the value (a change
                // within rounding), a smaller gradient is progress too.
                if fc <= f + 1e-4 * step * slope || (fc <= f + 1e-13 * max(1, abs(f)) && Self.maxAbs(gc) < norm) {
                    accepted = (candidate, fc, gc)
                    break
                }
                step *= 0.5
            }
            guard let next = accepted else {
                // No decrease is representable any more: the point is as good as float64 allows.
                return Outcome(point: x, value: f, gradientNorm: norm, iterations: iteration, converged: norm <= gradientTolerance * 1e3)
            }
            let s = zip(next.x, x).map { $0 - $1 }
            let y = zip(next.g, g).map { $0 - $1 }
            let sy = Self.dot(s, y)
            if sy > 1e-12 * Self.dot(y, y).squareRoot() * Self.dot(s, s).squareRoot() {
                steps.append((s, y, 1 / sy))
                if steps.count > memory { steps.removeFirst() }
            }
            let decrease = f - next.f
            x = next.x
            f = next.f
            g = next.g
            iteration += 1
            if decrease <= 1e-16 * max(1, abs(f)), Self.maxAbs(g) <= gradientTolerance * 1e3 {
                return Outcome(point: x, value: f, gradientNorm: Self.maxAbs(g), iterations: iteration, converged: true)
            }
        }
        return Outcome(point: x, value: f, gradientNorm: Self.maxAbs(g), iterations: iteration, converged: false)
    }

    /// The quasi-Newton direction −H·g from the remembered steps.
    private func twoLoop(_ g: [Double], _ steps: [(s: [Double], y: [Double], rho: Double)]) -> [Double] {
        var q = g
        var alphas = [Double](repeating: 0, count: steps.count)
        for i in steps.indices.reversed() {
            let alpha = steps[i].rho * Self.dot(steps[i].s, q)
            alphas[i] = alpha
            Self.axpy(-alpha, steps[i].y, &q)
        }
        if let last = steps.last {
            let gamma = Self.dot(last.s, last.y) / Self.dot(last.y, last.y)
            for i in q.indices { q[i] *= gamma }
        }
        for i in steps.indices {
            let beta = steps[i].rho * Self.dot(steps[i].y, q)
            Self.axpy(alphas[i] - beta, steps[i].s, &q)
        }
        return q.map { -$0 }
    }

    static func dot(_ a: [Double], _ b: [Double]) -> Double {
        var sum = 0.0
        for i in a.indices { sum += a[i] * b[i] }
        return sum
    }

    static func maxAbs(_ a: [Double]) -> Double {
        a.reduce(0) { max($0, abs($1)) }
    }

    static func axpy(_ alpha: Double, _ x: [Double], _ y: inout [Double]) {
        for i in y.indices { y[i] += alpha * x[i] }
    }
}
