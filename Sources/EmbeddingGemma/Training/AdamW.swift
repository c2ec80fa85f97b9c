import Foundation

/// The AdamW optimiser as PyTorch's `torch.optim.AdamW` computes it (decoupled weight decay,
/// bias-corrected moments, float32 state), with the schedule and clipping of Hugging Face's
/// trainer, which sentence-transformers' trainer uses: linear warm-up then linear decay
/// (`get_linear_schedule_with_warmup`) and clipping of the gradients' global L2 norm.
public struct AdamW: Sendable, Hashable {
    /// Decay of the first moment (0.9).
    public var beta1: Float
    /// Decay of the second moment (0.999).
    public var beta2: Float
    /// Added to the second moment's root (1e-8).
    public var epsilon: Float
    /// Applied to tensors marked as decaying (weights; not norms or biases).
    public var weightDecay: Float

    public init(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0.01) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    /// One tensor's moments.
    public struct State: Sendable, Hashable, Codable {
        public var m: [Float]
        public var v: [Float]
        /// Steps taken (the bias correction's `t`).
        public var step: Int

        public init(count: Int) {
            m = [Float](repeating: 0, count: count)
            v = [Float](repeating: 0, count: count)
            step = 0
        }
    }

    /// Takes one step on `parameters` with `gradients` at learning rate `rate`.
    /// - Parameter decays: whether weight decay applies to this tensor.
    public func step(_ parameters: inout [Float], gradients: [Float], state: inout State, rate: Float, decays: Bool) {
        precondition(parameters.count == gradients.count && state.m.count == parameters.count, "AdamW: mismatched tensor sizes")
        state.step += 1
        let count = parameters.count, t = state.step
        parameters.withUnsafeMutableBufferPointer { p in
            gradients.withUnsafeBufferPointer { g in
                state.m.withUnsafeMutableBufferPointer { m in
                    state.v.withUnsafeMutableBufferPointer { v in
                        guard let pp = p.baseAddress, let gp = g.baseAddress, let mp = m.baseAddress, let vp = v.baseAddress else { return }
                        update(pp, gradient: UnsafeMutablePointer(mutating: gp), m: mp, v: vp, count: count, step: t, rate: rate, decays: decays)
                    }
                }
            }
        }
    }

    /// One step on `count` values at `parameters` with their moments `m` and `v`, `step` being the
    /// step's number (1 for the first); a nil `gradient` is a zero gradient (rows of the token
    /// embeddings a batch did not use, which torch still decays and moves by their moments).
    ///
    /// `gradientScale` multiplies each gradient first (clipping's factor, as torch scales the
    /// gradients in place before the step); with `consumesGradient`, each gradient is set to zero
    /// once read (the next step's accumulation starts from zero without another pass over memory).
    func update(_ parameters: UnsafeMutablePointer<Float>, gradient: UnsafeMutablePointer<Float>?, m: UnsafeMutablePointer<Float>,
                v: UnsafeMutablePointer<Float>, count: Int, step: Int, rate: Float, decays: Bool,
                gradientScale: Float = 1, consumesGradient: Bool = false) {
        let t = Float(step)
        let correction1 = 1 - pow(beta1, t)
        let correction2 = 1 - pow(beta2, t)
        let stepSize = rate / correction1
        let root2 = correction2.squareRoot()
        let decay = decays ? 1 - rate * weightDecay : 1
        let beta1 = beta1, beta2 = beta2, epsilon = epsilon
        guard let gradient else {
            // A zero gradient: the moments decay, the parameter still moves by them.
            for i in 0..<count {
                parameters[i] *= decay
                m[i] = beta1 * m[i]
                v[i] = beta2 * v[i]
                parameters[i] -= stepSize * m[i] / (v[i].squareRoot() / root2 + epsilon)
            }
            return
        }
        // Two copies of one loop, so that neither branches per value (g · 1 is exact: unscaled is the same).
        if consumesGradient {
            for i in 0..<count {
                let g = gradient[i] * gradientScale
                gradient[i] = 0
                Self.step(&parameters[i], &m[i], &v[i], g, decay, beta1, beta2, stepSize, root2, epsilon)
            }
        } else {
            for i in 0..<count {
                Self.step(&parameters[i], &m[i], &v[i], gradient[i] * gradientScale, decay, beta1, beta2, stepSize, root2, epsilon)
            }
        }
    }

    /// One value's update, in torch's order: decay; moments; `p −= (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)`.
    @inline(__always)
    private static func step(_ p: inout Float, _ m: inout Float, _ v: inout Float, _ g: Float, _ decay: Float, _ beta1: Float,
                             _ beta2: Float, _ stepSize: Float, _ root2: Float, _ epsilon: Float) {
        p *= decay
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        p -= stepSize * m / (v.squareRoot() / root2 + epsilon)
    }

    /// The learning rate of step `step` (0-based) of `total`, with `warmup` warm-up steps: Hugging
    /// Face's linear schedule (0 at the first step when there is a warm-up).
    public static func learningRate(base: Float, step: Int, total: Int, warmup: Int) -> Float {
        if step < warmup { return base * Float(step) / Float(max(1, warmup)) }
        return base * max(0, Float(total - step) / Float(max(1, total - warmup)))
    }

    /// Scales `gradients` (every tensor) so that their global L2 norm is at most `maxNorm`, as
    /// `torch.nn.utils.clip_grad_norm_` does; returns the norm before clipping.
    @discardableResult
    public static func clip(_ gradients: inout [[Float]], maxNorm: Float) -> Float {
        var sum = 0.0
        for tensor in gradients { for g in tensor { sum += Double(g) * Double(g) } }
        let norm = Float(sum.squareRoot())
        let coefficient = maxNorm / (norm + 1e-6)
        if coefficient < 1 {
            for t in gradients.indices { for i in gradients[t].indices { gradients[t][i] *= coefficient } }
        }
        return norm
    }
}
