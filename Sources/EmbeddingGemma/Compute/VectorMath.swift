/// Small vector helpers shared by the API (normalisation, cosine similarity).
public enum VectorMath {
    /// `v / ‖v‖` (a zero vector is returned unchanged).
    public static func normalized(_ v: [Float]) -> [Float] {
        var sum: Double = 0
        for x in v { sum += Double(x) * Double(x) }
        guard sum > 0 else { return v }
        let inv = Float(1 / sum.squareRoot())
        return v.map { $0 * inv }
    }

    /// Dot product; the vectors must have the same length.
    public static func dot(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "vectors of different lengths")
        var sum: Double = 0
        for i in 0..<a.count { sum += Double(a[i]) * Double(b[i]) }
        return Float(sum)
    }

    /// Cosine similarity (0 when either vector is zero); the vectors must have the same length.
    public static func cosine(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "vectors of different lengths")
        var ab: Double = 0, aa: Double = 0, bb: Double = 0
        for i in 0..<a.count {
            ab += Double(a[i]) * Double(b[i])
            aa += Double(a[i]) * Double(a[i])
            bb += Double(b[i]) * Double(b[i])
        }
        guard aa > 0, bb > 0 else { return 0 }
        return Float(ab / (aa.squareRoot() * bb.squareRoot()))
    }
}
