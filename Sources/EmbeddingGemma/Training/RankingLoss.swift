import Foundation

/// sentence-transformers' `MultipleNegativesRankingLoss` (and its Matryoshka form) on a batch of
/// embeddings, with its gradient: for each anchor `aᵢ`, the candidates are every positive `pⱼ`
/// of the batch (in-batch negatives) and then every hard negative `nⱼ`; the scores are
/// `scale · cos(aᵢ, c)` and the loss is the mean cross-entropy of choosing `pᵢ`.
///
/// With ``dimensions`` (Matryoshka), the loss is the sum over those widths of the same loss on
/// the embeddings' leading values (`MatryoshkaLoss` with weights 1: truncated, not renormalised
/// before the cosine, which normalises anyway). Computed in double precision; the batch is small.
public struct RankingLoss: Sendable, Hashable {
    /// The cosines' multiplier (sentence-transformers: 20).
    public var scale: Double
    /// Widths the loss is summed over (nil: the full width only).
    public var dimensions: [Int]?

    public init(scale: Double = 20, dimensions: [Int]? = nil) {
        self.scale = scale
        self.dimensions = dimensions
    }

    /// The loss and its gradient with respect to every input vector (same shapes as the inputs).
    /// - Parameters:
    ///   - anchors: `B` vectors of one width.
    ///   - positives: `B` vectors, `positives[i]` the match of `anchors[i]`.
    ///   - negatives: none, or `B` hard negatives (`negatives[i]` belongs to `anchors[i]`'s row,
    ///     but like the positives every one is a candidate for every anchor).
    public func evaluate(anchors: [[Float]], positives: [[Float]], negatives: [[Float]] = [])
        -> (loss: Double, anchors: [[Float]], positives: [[Float]], negatives: [[Float]]) {
        let width = anchors.first?.count ?? 0
        var gradAnchors = anchors.map { [Double](repeating: 0, count: $0.count) }
        let candidates = positives + negatives
        var gradCandidates = candidates.map { [Double](repeating: 0, count: $0.count) }
        var total = 0.0
        for d in dimensions ?? [width] {
            total += Self.accumulate(anchors: anchors, candidates: candidates, width: min(d, width), scale: scale,
                                     gradAnchors: &gradAnchors, gradCandidates: &gradCandidates)
        }
        let toFloat = { (rows: [[Double]]) in rows.map { $0.map(Float.init) } }
        let gradPositives = Array(gradCandidates.prefix(positives.count))
        let gradNegatives = Array(gradCandidates.dropFirst(positives.count))
        return (total, toFloat(gradAnchors), toFloat(gradPositives), toFloat(gradNegatives))
    }

    /// One width's loss, its gradient added to the leading `width` values of the gradients.
    private static func accumulate(anchors: [[Float]], candidates: [[Float]], width: Int, scale: Double,
                                   gradAnchors: inout [[Double]], gradCandidates: inout [[Double]]) -> Double {
        let batch = anchors.count
        guard batch > 0 else { return 0 }
        // Unit vectors (cosine = dot product of the normalised vectors) and their norms.
        func unit(_ vector: [Float]) -> (unit: [Double], norm: Double) {
            var norm = 0.0
            for i in 0..<width { norm += Double(vector[i]) * Double(vector[i]) }
            norm = max(norm.squareRoot(), 1e-12)   // as torch.nn.functional.normalize (eps 1e-12)
            return ((0..<width).map { Double(vector[$0]) / norm }, norm)
        }
        let a = anchors.map(unit)
        let c = candidates.map(unit)
        var loss = 0.0
        // dL/d(unit vectors), then through the normalisation.
        var gradA = [[Double]](repeating: [Double](repeating: 0, count: width), count: batch)
        var gradC = [[Double]](repeating: [Double](repeating: 0, count: width), count: c.count)
        for i in 0..<batch {
            var scores = c.map { candidate in
                var dot = 0.0
                for k in 0..<width { dot += a[i].unit[k] * candidate.unit[k] }
                return scale * dot
            }
            let top = scores.max() ?? 0
            var sum = 0.0
            for j in scores.indices { scores[j] = exp(scores[j] - top); sum += scores[j] }
            loss += -(log(scores[i] / sum))
            for j in scores.indices {
                // d(mean cross-entropy)/d(score j) = (softmax j − [j = i]) / B.
                let g = (scores[j] / sum - (j == i ? 1 : 0)) / Double(batch) * scale
                for k in 0..<width {
                    gradA[i][k] += g * c[j].unit[k]
                    gradC[j][k] += g * a[i].unit[k]
                }
            }
        }
        // Through u = v / |v|: dv = (du − u (u·du)) / |v|.
        func backNormalise(_ grad: [Double], _ vector: (unit: [Double], norm: Double), into target: inout [Double]) {
            var dot = 0.0
            for k in 0..<width { dot += grad[k] * vector.unit[k] }
            for k in 0..<width { target[k] += (grad[k] - vector.unit[k] * dot) / vector.norm }
        }
        for i in 0..<batch { backNormalise(gradA[i], a[i], into: &gradAnchors[i]) }
        for j in c.indices { backNormalise(gradC[j], c[j], into: &gradCandidates[j]) }
        return loss / Double(batch)
    }
}
